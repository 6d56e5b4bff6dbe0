import type { QueueOverview } from '../../persistence/dashboard.repository';
import { throughputChart } from '../html/chart.template';
import { duration } from '../html/format';
import { Html, html } from '../html/html.template';
import { layout, PageFrame } from '../html/layout.template';
import { ownAccountPanel, pauseControl, PausedView } from '../html/paused.template';
import { LISTED_STATES } from '../dashboard-query';
import { jobsLink, stateCountCells, withPausedKeys } from './state-counts';

/**
 * A queue's pause state and its Pause / Resume button. The account-scoped dashboard shows the state only:
 * a queue holds every account's jobs, so pausing one is an operator's action.
 */
export function queueActions(frame: PageFrame, queue: QueueOverview, paused: PausedView): Html {
  return pauseControl(frame, 'queues', queue.queue, paused.queues.get(queue.queue), !frame.scoped);
}

/** An overview row for a paused queue that has no job now (so it can still be resumed from here). */
function emptyQueue(queue: string): QueueOverview {
  return {
    queue,
    counts: {},
    completed: new Array<number>(12).fill(0),
    failed: new Array<number>(12).fill(0),
    oldestWaiting: null,
  };
}

/**
 * Per queue: counts by state (each a link to the filtered list), the last hour, the oldest waiting job,
 * the pause state. The account-scoped overview adds its account's pause state and button.
 */
export function overviewPage(
  frame: PageFrame,
  withJobs: QueueOverview[],
  paused: PausedView,
  notice?: string,
): Html {
  const queues = withPausedKeys(withJobs, (q) => q.queue, paused.queues, emptyQueue).sort((a, b) =>
    a.queue.localeCompare(b.queue),
  );
  const rows = queues.map(
    (q) =>
      html`<tr>
        <th scope="row"><a href="${jobsLink(frame, { queue: q.queue })}">${q.queue}</a></th>
        ${stateCountCells(frame, q.counts, { queue: q.queue })}
        <td>${throughputChart(q.completed, q.failed)}</td>
        <td>
          ${q.oldestWaiting ? html`<a href="${`${frame.base}/jobs/${q.oldestWaiting.id}`}">#${q.oldestWaiting.id}</a> waiting ${duration(q.oldestWaiting.waitingMs)}` : html`<span class="muted">none</span>`}
        </td>
        <td>${queueActions(frame, q, paused)}</td>
      </tr>`,
  );
  const content = html`<h1>Overview</h1>
    ${frame.accountId ? ownAccountPanel(frame, frame.accountId, paused) : ''}
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
