import type { JobRecord } from '../../interfaces';
import { duration, json, stateBadge, time } from '../html/format';
import { Html, html } from '../html/html.template';
import { actionForm, layout, PageFrame } from '../html/layout.template';

/**
 * The job's progress. Empty for now: progress reporting lands with the observability work, which adds
 * a `<progress>` bar here from the job's stored progress.
 */
export function progressSection(_job: JobRecord): Html {
  return html``;
}

/** The actions a job's state allows (the queue refuses the others anyway). */
function actions(frame: PageFrame, job: JobRecord): Html {
  const at = `/jobs/${job.id}`;
  const finished = job.state === 'failed' || job.state === 'cancelled';
  return html`<div class="actions">
    ${finished ? actionForm(frame, `${at}/retry`, 'Retry') : ''}
    ${['scheduled', 'available', 'running'].includes(job.state) ? actionForm(frame, `${at}/cancel`, 'Cancel', { confirm: `Cancel job #${job.id}?` }) : ''}
    ${finished ? actionForm(frame, `${at}/discard`, 'Discard', { confirm: `Delete job #${job.id} for good?`, danger: true }) : ''}
  </div>`;
}

/** One job: its facts, payload, result, every attempt's error with its stack, and the actions. */
export function jobPage(frame: PageFrame, job: JobRecord, notice?: string): Html {
  const facts: Array<[string, unknown]> = [
    ['State', stateBadge(job.state)],
    ['Queue', job.queue],
    ['Account', job.accountId ?? html`<span class="muted">global</span>`],
    ['Attempts', `${job.attempts} of ${job.maxAttempts}`],
    ['Priority', job.priority],
    ['Unique key', job.uniqueKey ?? html`<span class="muted">none</span>`],
    ['Created', time(job.createdAt)],
    ['Runs at', time(job.runAt)],
    ['Started', time(job.startedAt)],
    ['Finished', time(job.finishedAt)],
    ['Duration', duration(job.durationMs)],
    ['Locked by', job.lockedBy ?? html`<span class="muted">–</span>`],
    ['Lease until', time(job.lockedUntil)],
  ];
  const errors = [...job.errors].reverse().map(
    (e) =>
      html`<details
        class="attempt-error"
        ${e === job.errors[job.errors.length - 1] ? html` open` : ''}
      >
        <summary>
          Attempt ${e.attempt} · ${time(new Date(e.at))} · <strong>${e.name}</strong>:
          <span class="message">${e.message}</span>
        </summary>
        ${e.stack ? html`<pre class="stack">${e.stack}</pre>` : html`<p class="muted">No stack recorded.</p>`}
      </details>`,
  );
  const content = html`<p><a href="${frame.base}/jobs">← Jobs</a></p>
    <h1>Job #${job.id} <span class="job-name">${job.name}</span></h1>
    ${actions(frame, job)}
    <dl class="facts">
      ${facts.map(
        ([k, v]) =>
          html`<dt>${k}</dt>
            <dd>${v}</dd>`,
      )}
    </dl>
    ${progressSection(job)}
    <h2>Payload</h2>
    <pre class="json payload">${json(job.payload)}</pre>
    <h2>Result</h2>
    ${job.result === null ? html`<p class="muted">None.</p>` : html`<pre class="json result">${json(job.result)}</pre>`}
    <h2>Errors (${job.errors.length})</h2>
    ${errors.length ? errors : html`<p class="muted">No failed attempt.</p>`}`;
  return layout(frame, { title: `Job #${job.id}`, active: '/jobs', notice }, content);
}
