/**
 * The dashboard's one escaping helper. Every page is built with the `html` tag, which escapes every
 * interpolated value (job names, payloads, error messages, account ids, query strings) unless the value is
 * itself markup built by `html`. There is no other way to put text into a page, so a value from a job can
 * never become markup: `<script>` in a payload renders as the text `<script>`.
 */

/** Markup built by the `html` tag (or `raw` for a trusted literal); the only thing that is not escaped. */
export class Html {
  constructor(readonly text: string) {}

  toString(): string {
    return this.text;
  }
}

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Escapes text for an element's content or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (c) => ENTITIES[c]);
}

/** A value as page text: `Html` as it is, arrays joined, null/undefined/false as nothing, the rest escaped. */
function render(value: unknown): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

/** Tagged template: the literal parts are trusted markup, every `${value}` is escaped (see `render`). */
export function html(strings: TemplateStringsArray, ...values: unknown[]): Html {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new Html(out);
}

/** A trusted literal (markup written in this folder, never a value from a job or a request). */
export function raw(markup: string): Html {
  return new Html(markup);
}
