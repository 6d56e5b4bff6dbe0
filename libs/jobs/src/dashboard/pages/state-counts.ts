import type { JobState } from '../../interfaces';
import { count } from '../html/format';
import { Html, html } from '../html/html.template';
import type { PageFrame } from '../html/layout.template';
import { LISTED_STATES } from '../dashboard-query';

/** The job list filtered by `params` (`?queue=…&state=…`). */
export function jobsLink(frame: PageFrame, params: Record<string, string>): string {
  return `${frame.base}/jobs?${new URLSearchParams(params).toString()}`;
}

/**
 * One table cell per listed state: the count, linked to the job list filtered by `filter` and that
 * state, or a muted 0. Shared by the overview (per queue) and the accounts page (per account).
 */
export function stateCountCells(
  frame: PageFrame,
  counts: Partial<Record<JobState, number>>,
  filter: Record<string, string>,
): Html[] {
  return LISTED_STATES.map(
    (s) =>
      html`<td class="num">
        ${counts[s] ? html`<a href="${jobsLink(frame, { ...filter, state: s })}">${count(counts[s])}</a>` : html`<span class="muted">0</span>`}
      </td>`,
  );
}

/**
 * `rows`, then a row (`empty(key)`) for each paused key that has none: a paused queue or account with no
 * job now must still be listed, to be resumed from the page.
 */
export function withPausedKeys<T>(
  rows: T[],
  keyOf: (row: T) => string,
  paused: Map<string, Date>,
  empty: (key: string) => T,
): T[] {
  const known = new Set(rows.map(keyOf));
  return [...rows, ...[...paused.keys()].filter((k) => !known.has(k)).map(empty)];
}
