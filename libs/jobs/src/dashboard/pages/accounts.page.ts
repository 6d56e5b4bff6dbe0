import type { AccountRow } from '../../persistence/dashboard.repository';
import { count } from '../html/format';
import { Html, html } from '../html/html.template';
import { layout, PageFrame } from '../html/layout.template';
import { LISTED_STATES } from '../dashboard-query';

/**
 * An account's pause state and buttons. Empty for now: account pause/resume lands with the fairness
 * work, which fills this cell (a "paused" badge and a Pause/Resume `actionForm`).
 */
export function accountActions(_frame: PageFrame, _account: AccountRow): Html {
  return html``;
}

/** Job counts per account (the accounts with the most jobs first), each linked to its filtered list. */
export function accountsPage(frame: PageFrame, accounts: AccountRow[], limit: number): Html {
  const link = (params: Record<string, string>) =>
    `${frame.base}/jobs?${new URLSearchParams(params).toString()}`;
  const rows = accounts.map(
    (a) =>
      html`<tr>
        <th scope="row"><a href="${link({ account: a.accountId })}">${a.accountId}</a></th>
        ${LISTED_STATES.map((s) => html`<td class="num">${a.counts[s] ? html`<a href="${link({ account: a.accountId, state: s })}">${count(a.counts[s])}</a>` : html`<span class="muted">0</span>`}</td>`)}
        <td class="num">${count(a.total)}</td>
        <td>${accountActions(frame, a)}</td>
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
            ${accounts.length === limit ? html`<p class="muted">The ${limit} accounts with the most jobs.</p>` : ''}`
    }`;
  return layout(frame, { title: 'Accounts', active: '/accounts' }, content);
}
