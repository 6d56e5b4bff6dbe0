import type { JobListFilter, JobListRow } from '../../persistence/dashboard.repository';
import { count, stateBadge, time } from '../html/format';
import { Html, html } from '../html/html.template';
import { actionForm, layout, PageFrame } from '../html/layout.template';
import { filterFields, LISTED_STATES } from '../dashboard-query';

/** The job list: the filter form, one page of jobs, the keyset "older" link and the bulk actions. */
export function jobListPage(
  frame: PageFrame,
  filter: JobListFilter,
  rows: JobListRow[],
  more: boolean,
  notice?: string,
): Html {
  const fields = filterFields(filter, frame.scoped);
  const query = (extra: Record<string, string>) =>
    new URLSearchParams({ ...definedOnly(fields), ...extra }).toString();
  const bulkFields: Record<string, string | undefined> = { ...fields, before: undefined };
  const stateOptions = LISTED_STATES.map(
    (s) => html`<option value="${s}" ${filter.state === s ? html` selected` : ''}>${s}</option>`,
  );
  const form = html`<form method="get" action="${frame.base}/jobs" class="filters">
    <label
      >State
      <select name="state">
        <option value="">any</option>
        ${stateOptions}
      </select></label
    >
    <label>Queue <input name="queue" value="${filter.queue ?? ''}" size="10" /></label>
    <label>Name <input name="name" value="${filter.name ?? ''}" size="16" /></label>
    ${frame.scoped ? '' : html`<label>Account <input name="account" value="${filter.accountId ?? ''}" size="16" /></label>`}
    <label
      >Created from <input type="datetime-local" name="from" step="1" value="${fields.from ?? ''}"
    /></label>
    <label>to <input type="datetime-local" name="to" step="1" value="${fields.to ?? ''}" /></label>
    <button type="submit">Filter</button> <a href="${frame.base}/jobs">Clear</a>
  </form>`;
  const table = html`<table class="jobs">
    <thead>
      <tr>
        <th class="num">Id</th>
        <th>Name</th>
        <th>Queue</th>
        <th>State</th>
        ${frame.scoped ? '' : html`<th>Account</th>`}
        <th class="num">Attempts</th>
        <th>Created</th>
        <th>Error</th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (r) =>
          html`<tr>
            <td class="num"><a href="${`${frame.base}/jobs/${r.id}`}">#${r.id}</a></td>
            <td>${r.name}</td>
            <td>${r.queue}</td>
            <td>${stateBadge(r.state)}</td>
            ${frame.scoped ? '' : html`<td>${r.accountId ?? html`<span class="muted">global</span>`}</td>`}
            <td class="num">${r.attempts}/${r.maxAttempts}</td>
            <td>${time(r.createdAt)}</td>
            <td class="error">${r.error ?? ''}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
  const paging = html`<p class="paging">
    ${fields.before ? html`<a href="${`${frame.base}/jobs?${query({ before: '' }).replace(/&?before=/, '')}`}">Newest</a> ` : ''}${more ? html`<a rel="next" href="${`${frame.base}/jobs?${query({ before: rows[rows.length - 1].id })}`}">Older →</a>` : ''}
  </p>`;
  const bulk = html`<div class="bulk">
    <span>Every job matching this filter:</span>
    ${actionForm(frame, '/bulk/retry', 'Retry all…', { fields: bulkFields })}
    ${actionForm(frame, '/bulk/cancel', 'Cancel all…', { fields: bulkFields })}
    ${actionForm(frame, '/bulk/discard', 'Discard all…', { fields: bulkFields, danger: true })}
  </div>`;
  const content = html`<h1>Jobs</h1>
    ${form}${
      rows.length === 0
        ? html`<p class="empty">No job matches.</p>`
        : html`${table}${paging}${bulk}`
    }
    <p class="muted">${count(rows.length)} shown, newest first.</p>`;
  return layout(frame, { title: 'Jobs', active: '/jobs', notice, refresh: true }, content);
}

function definedOnly(fields: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined),
  );
}
