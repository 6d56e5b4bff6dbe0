import type { QueueOverview } from '../../persistence/dashboard.repository';
import { throughputChart } from '../html/chart.template';
import { count, duration } from '../html/format';
import { Html, html } from '../html/html.template';
import { layout, PageFrame } from '../html/layout.template';
import { LISTED_STATES } from '../dashboard-query';

/**
 * A queue's action buttons. Empty for now: pause/resume lands with the fairness work
 * (`JobQueueService`-level pause), and adds its form here, e.g.
 * `actionForm(frame, `/queues/${queue}/pause`, 'Pause')`, with a POST route beside the other actions.
 */
export function queueActions(_frame: PageFrame, _queue: QueueOverview): Html {
  return html``;
}

/** Per queue: counts by state (each a link to the filtered list), the last hour, the oldest waiting job. */
export function overviewPage(frame: PageFrame, queues: QueueOverview[], notice?: string): Html {
  const list = (params: Record<string, string>) =>
    `${frame.base}/jobs?${new URLSearchParams(params).toString()}`;
  const rows = queues.map(
    (q) =>
      html`<tr>
        <th scope="row"><a href="${list({ queue: q.queue })}">${q.queue}</a></th>
        ${LISTED_STATES.map((s) => html`<td class="num">${q.counts[s] ? html`<a href="${list({ queue: q.queue, state: s })}">${count(q.counts[s])}</a>` : html`<span class="muted">0</span>`}</td>`)}
        <td>${throughputChart(q.completed, q.failed)}</td>
        <td>
          ${q.oldestWaiting ? html`<a href="${`${frame.base}/jobs/${q.oldestWaiting.id}`}">#${q.oldestWaiting.id}</a> waiting ${duration(q.oldestWaiting.waitingMs)}` : html`<span class="muted">none</span>`}
        </td>
        <td>${queueActions(frame, q)}</td>
      </tr>`,
  );
  const content = html`<h1>Overview</h1>
    ${
      queues.length === 0
        ? html`<p class="empty">No jobs yet.</p>`
        : html`<table class="overview">
            <thead>
              <tr>
                <th>Queue</th>
                ${LISTED_STATES.map((s) => html`<th class="num">${s}</th>`)}
                <th>
                  Last hour
                  <span class="legend"
                    ><span class="key-completed">completed</span> /
                    <span class="key-failed">failed</span></span
                  >
                </th>
                <th>Oldest waiting</th>
                <th></th>
              </tr>
            </thead>
            <tbody>
              ${rows}
            </tbody>
          </table>`
    }`;
  return layout(frame, { title: 'Overview', active: '', notice, refresh: true }, content);
}
