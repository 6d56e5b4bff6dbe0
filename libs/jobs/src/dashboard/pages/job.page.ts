import type { JobRecord } from '../../interfaces';
import type { JobListRow } from '../../persistence/dashboard.repository';
import { duration, json, stateBadge, time } from '../html/format';
import { Html, html } from '../html/html.template';
import { actionForm, layout, PageFrame } from '../html/layout.template';

/**
 * A stored progress value as a fraction from 0 to 1, when it reads as one: a number is a percentage
 * (`ctx.progress(42)`), an object with a numeric `total` above 0 and `done` (or `current`) a count
 * (`ctx.progress({ done: 3_000, total: 10_000 })`). `null` for anything else (only the value is shown).
 */
export function progressFraction(value: unknown): number | null {
  const clamp = (n: number) => Math.min(1, Math.max(0, n));
  if (typeof value === 'number') return Number.isFinite(value) ? clamp(value / 100) : null;
  if (typeof value !== 'object' || value === null) return null;
  const { done, current, total } = value as Record<string, unknown>;
  const count = typeof done === 'number' ? done : current;
  return typeof count === 'number' &&
    typeof total === 'number' &&
    total > 0 &&
    Number.isFinite(count)
    ? clamp(count / total)
    : null;
}

/** The job's last `ctx.progress` value: a bar when it reads as a fraction, and the value itself. */
export function progressSection(job: JobRecord): Html {
  if (job.progress === null || job.progress === undefined) return html``;
  const fraction = progressFraction(job.progress);
  const percent = fraction === null ? null : Math.round(fraction * 1000) / 10;
  return html`<h2>Progress</h2>
    <div class="progress">
      ${percent === null ? '' : html`<progress max="100" value="${percent}" aria-label="${`${percent}%`}">${percent}%</progress> <span class="percent">${percent}%</span>`}
      <code class="progress-value">${JSON.stringify(job.progress)}</code>
    </div>`;
}

/** The jobs a job is linked to on its page. */
export interface JobLinks {
  /** The job that enqueued it, when this request may see it. */
  parent: JobRecord | null;
  /** One page of the jobs it enqueued, newest first. */
  children: JobListRow[];
  /** More children below the last one shown. */
  more: boolean;
  /** The cursor this page of children was read from. */
  before: string | undefined;
}

/** The "Enqueued by" fact: a link to the parent, or its id when it is gone (deleted by retention). */
function parentFact(frame: PageFrame, job: JobRecord, links: JobLinks): unknown {
  if (links.parent) {
    return html`<a class="parent" href="${`${frame.base}/jobs/${links.parent.id}`}"
        >#${links.parent.id}</a
      >
      ${links.parent.name}`;
  }
  if (job.parentId === null || frame.scoped) return html`<span class="muted">–</span>`;
  return html`#${job.parentId} <span class="muted">(no longer stored)</span>`;
}

/** The jobs it enqueued, 50 at a time. */
function childrenSection(frame: PageFrame, job: JobRecord, links: JobLinks): Html {
  const { children } = links;
  if (children.length === 0 && links.before === undefined) return html``;
  const at = `${frame.base}/jobs/${job.id}`;
  return html`<h2>Enqueued jobs</h2>
    <table class="jobs children">
      <thead>
        <tr>
          <th class="num">Id</th>
          <th>Name</th>
          <th>Queue</th>
          <th>State</th>
          <th>Created</th>
        </tr>
      </thead>
      <tbody>
        ${children.map(
          (c) =>
            html`<tr>
              <td class="num"><a href="${`${frame.base}/jobs/${c.id}`}">#${c.id}</a></td>
              <td>${c.name}</td>
              <td>${c.queue}</td>
              <td>${stateBadge(c.state)}</td>
              <td>${time(c.createdAt)}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <p class="paging">
      ${links.before ? html`<a href="${at}">Newest</a> ` : ''}${links.more ? html`<a rel="next" href="${`${at}?children_before=${children[children.length - 1].id}`}">Older →</a>` : ''}
    </p>`;
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
export function jobPage(frame: PageFrame, job: JobRecord, links: JobLinks, notice?: string): Html {
  const facts: Array<[string, unknown]> = [
    ['State', stateBadge(job.state)],
    ['Queue', job.queue],
    ['Account', job.accountId ?? html`<span class="muted">global</span>`],
    ['Attempts', `${job.attempts} of ${job.maxAttempts}`],
    ['Priority', job.priority],
    ['Unique key', job.uniqueKey ?? html`<span class="muted">none</span>`],
    ['Enqueued by', parentFact(frame, job, links)],
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
    ${errors.length ? errors : html`<p class="muted">No failed attempt.</p>`}
    ${childrenSection(frame, job, links)}`;
  return layout(frame, { title: `Job #${job.id}`, active: '/jobs', notice }, content);
}
