import { Html, html } from '../html/html.template';
import { actionForm, layout, PageFrame } from '../html/layout.template';

/** A page that only says something (not found, a bad filter). */
export function messagePage(frame: PageFrame, title: string, message: string): Html {
  return layout(
    frame,
    { title, active: '' },
    html`<h1>${title}</h1>
      <p>${message}</p>
      <p><a href="${frame.base}/jobs">← Jobs</a></p>`,
  );
}

/** The confirmation step of a bulk action: how many jobs it would touch, and the button that does it. */
export function confirmBulkPage(
  frame: PageFrame,
  action: string,
  matched: number,
  limit: number,
  fields: Record<string, string | undefined>,
): Html {
  const capped = matched >= limit;
  const content = html`<h1>
      ${action[0].toUpperCase() + action.slice(1)} ${matched}${capped ? '+' : ''}
      job${matched === 1 ? '' : 's'}?
    </h1>
    <p>
      ${matched === 0 ? 'No job matches this filter.' : `This will ${action} ${capped ? `the newest ${limit}` : `all ${matched}`} jobs matching the filter (only those whose state allows it).`}
    </p>
    ${matched === 0 ? '' : actionForm(frame, `/bulk/${action}`, `Yes, ${action} ${capped ? limit : matched}`, { fields: { ...fields, confirm: String(matched) }, danger: action === 'discard' })}
    <p>
      <a
        href="${`${frame.base}/jobs?${new URLSearchParams(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined)).toString()}`}"
        >No, back to the list</a
      >
    </p>`;
  return layout(frame, { title: 'Confirm', active: '/jobs' }, content);
}
