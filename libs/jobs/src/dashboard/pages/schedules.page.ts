import type { TickRow } from '../../persistence/dashboard.repository';
import { time } from '../html/format';
import { Html, html } from '../html/html.template';
import { actionForm, layout, PageFrame } from '../html/layout.template';

/** A recurring schedule as the page shows it. */
export interface ScheduleView {
  key: string;
  job: string;
  cron: string;
  timeZone: string;
  perAccount: boolean;
  nextFire: Date | null;
}

/** Recurring schedules: cron, zone, next fire, recent ticks (with their jobs) and "Run now". */
export function schedulesPage(
  frame: PageFrame,
  schedules: ScheduleView[],
  ticks: TickRow[],
  notice?: string,
): Html {
  const rows = schedules.map((s) => {
    const recent = ticks.filter((t) => t.scheduleKey === s.key);
    return html`<tr>
      <th scope="row">${s.key}</th>
      <td>${s.job}</td>
      <td><code>${s.cron}</code></td>
      <td>${s.timeZone}</td>
      <td>${s.perAccount ? 'every account' : 'once'}</td>
      <td>${time(s.nextFire)}</td>
      <td>
        ${
          recent.length === 0
            ? html`<span class="muted">none</span>`
            : html`<ul class="ticks">
                ${recent.map((t) => html`<li>${time(t.fireTime)} → ${t.jobIds.length === 0 ? html`<span class="muted">no job</span>` : t.jobIds.slice(0, 5).map((id) => html`<a href="${`${frame.base}/jobs/${id}`}">#${id}</a> `)}${t.jobIds.length > 5 ? `+${t.jobIds.length - 5}` : ''}</li>`)}
              </ul>`
        }
      </td>
      <td>
        ${actionForm(frame, `/schedules/${encodeURIComponent(s.key)}/run`, 'Run now', { confirm: `Enqueue ${s.job} now?` })}
      </td>
    </tr>`;
  });
  const content = html`<h1>Schedules</h1>
    ${
      schedules.length === 0
        ? html`<p class="empty">No recurring schedule is mounted in this app.</p>`
        : html`<table>
            <thead>
              <tr>
                <th>Key</th>
                <th>Job</th>
                <th>Cron</th>
                <th>Zone</th>
                <th>Runs</th>
                <th>Next fire</th>
                <th>Recent ticks</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              ${rows}
            </tbody>
          </table>`
    }`;
  return layout(frame, { title: 'Schedules', active: '/schedules', notice }, content);
}
