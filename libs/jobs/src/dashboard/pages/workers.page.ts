import type { WorkerRow } from '../../persistence/dashboard.repository';
import { duration, time } from '../html/format';
import { Html, html } from '../html/html.template';
import { layout, PageFrame } from '../html/layout.template';

/** The registered workers: id, host, queues, concurrency, last heartbeat, jobs held. */
export function workersPage(frame: PageFrame, workers: WorkerRow[]): Html {
  const rows = workers.map(
    (w) =>
      html`<tr>
        <td><code>${w.id}</code></td>
        <td>${w.hostname} <span class="muted">pid ${w.pid}</span></td>
        <td>${w.queues.join(', ')}</td>
        <td class="num">${w.concurrency}</td>
        <td>${time(w.startedAt)}</td>
        <td>
          ${time(w.lastHeartbeatAt)} <span class="muted">(${duration(w.heartbeatAgeMs)} ago)</span>
        </td>
        <td class="num"><a href="${`${frame.base}/jobs?state=running`}">${w.held}</a></td>
      </tr>`,
  );
  const content = html`<h1>Workers</h1>
    ${
      workers.length === 0
        ? html`<p class="empty">No worker is registered.</p>`
        : html`<table>
            <thead>
              <tr>
                <th>Id</th>
                <th>Host</th>
                <th>Queues</th>
                <th class="num">Concurrency</th>
                <th>Started</th>
                <th>Last heartbeat</th>
                <th class="num">Jobs held</th>
              </tr>
            </thead>
            <tbody>
              ${rows}
            </tbody>
          </table>`
    }`;
  return layout(frame, { title: 'Workers', active: '/workers', refresh: true }, content);
}
