import type { AccountRow } from '../../persistence/dashboard.repository';
import { count } from '../html/format';
import { Html, html } from '../html/html.template';
import { layout, PageFrame } from '../html/layout.template';
import { pauseControl, PausedView } from '../html/paused.template';
import { LISTED_STATES } from '../dashboard-query';
import { jobsLink, stateCountCells, withPausedKeys } from './state-counts';

/** An account's pause state and its Pause / Resume button. */
export function accountActions(frame: PageFrame, account: AccountRow, paused: PausedView): Html {
  return pauseControl(
    frame,
    'accounts',
    account.accountId,
    paused.accounts.get(account.accountId),
    true,
  );
}

/** An accounts-page row for a paused account that has no job now (so it can still be resumed). */
function emptyAccount(accountId: string): AccountRow {
  const counts = Object.fromEntries(LISTED_STATES.map((s) => [s, 0])) as AccountRow['counts'];
  return { accountId, counts, total: 0 };
}

/**
 * Job counts per account (the accounts with the most jobs first), each linked to its filtered list, with
 * its pause state and button; paused accounts without jobs follow.
 */
export function accountsPage(
  frame: PageFrame,
  withJobs: AccountRow[],
  paused: PausedView,
  limit: number,
  notice?: string,
): Html {
  const accounts = withPausedKeys(withJobs, (a) => a.accountId, paused.accounts, emptyAccount);
  const rows = accounts.map(
    (a) =>
      html`<tr>
        <th scope="row">
          <a href="${jobsLink(frame, { account: a.accountId })}">${a.accountId}</a>
        </th>
        ${stateCountCells(frame, a.counts, { account: a.accountId })}
        <td class="num">${count(a.total)}</td>
        <td>${accountActions(frame, a, paused)}</td>
      </tr>`,
  );
  const content = html`<h1>Accounts</h1>
    ${
      accounts.length === 0
        ? html`<p class="empty">No job belongs to an account.</p>`
        : html`<table>
              <thead>
                <tr>
                  <th>Account</th>
                  ${LISTED_STATES.map((s) => html`<th class="num">${s}</th>`)}
                  <th class="num">total</th>
                  <th></th>
                </tr>
              </thead>
              <tbody>
                ${rows}
              </tbody>
            </table>
            ${withJobs.length === limit ? html`<p class="muted">The ${limit} accounts with the most jobs.</p>` : ''}`
    }`;
  return layout(frame, { title: 'Accounts', active: '/accounts', notice }, content);
}
