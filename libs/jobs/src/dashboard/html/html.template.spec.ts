import { escapeHtml, html, raw } from './html.template';

describe('html template', () => {
  it('escapes every interpolated value, in text and in attributes', () => {
    const payload = '"><img src=x onerror=alert(1)><script>alert(2)</script>';
    const page = html`<a title="${payload}">${payload}</a>`.text;
    expect(page).not.toContain('<img');
    expect(page).not.toContain('<script');
    expect(page).toBe(
      '<a title="&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;">' +
        '&quot;&gt;&lt;img src=x onerror=alert(1)&gt;&lt;script&gt;alert(2)&lt;/script&gt;</a>',
    );
  });

  it('keeps nested markup, joins arrays and drops empty values', () => {
    const items = ['a<b', 'c'].map((t) => html`<li>${t}</li>`);
    expect(
      html`<ul>
        ${items}${null}${undefined}${false}${0}
      </ul>`.text.replace(/\s+/g, ''),
    ).toBe('<ul><li>a&lt;b</li><li>c</li>0</ul>');
    expect(html`${raw('<br>')}`.text).toBe('<br>');
  });

  it('escapes quotes, ampersands and backticks', () => {
    expect(escapeHtml(`&'"\``)).toBe('&amp;&#39;&quot;&#96;');
  });
});
