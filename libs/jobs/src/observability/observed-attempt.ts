import { JobCancelledError } from '../errors';
import type { JobAttempt } from '../persistence/job-attempt';
import type { Span } from '@opentelemetry/api';
import type { AttemptOutcome } from './attempt-outcome';
import type { JobEvent } from './job-event.types';
import type { JobTracing } from './job-tracing';

/** What an observation reports to (the `JobLifecycle`). */
export interface AttemptReporter {
  awaitBatch(seen: ObservedAttempt): void;
  report(seen: ObservedAttempt, outcome: AttemptOutcome): void;
}

/**
 * One attempt under observation, made only when something observes jobs: it times the attempt and
 * reports its outcome once the worker recorded it. The worker holds it next to the running job.
 */
export class ObservedAttempt {
  private readonly startedAt = performance.now();
  /** Handler start to outcome, set when the attempt settles. */
  durationMs = 0;
  private outcome: AttemptOutcome | undefined;

  constructor(
    readonly job: JobAttempt,
    private readonly lifecycle: AttemptReporter,
    private readonly tracing?: JobTracing,
    /** The attempt's `process <queue>` span, when traced. */
    private readonly span?: Span,
  ) {}

  /**
   * Runs the attempt (`fn`: the runner's), inside its span when traced, and notes how long it took and
   * how it ended; the span ends with the attempt.
   */
  run(fn: () => Promise<AttemptOutcome | undefined>): Promise<AttemptOutcome | undefined> {
    const running = this.span && this.tracing ? this.tracing.within(this.span, fn) : fn();
    return running.then((outcome) => {
      this.durationMs = performance.now() - this.startedAt;
      // `undefined`: the attempt did not run (its start mark was fenced out): nothing to report.
      if (outcome) this.outcome = outcome;
      if (this.span && outcome) this.tracing?.endProcess(this.span, outcome);
      else this.span?.end();
      return outcome;
    });
  }

  /**
   * The worker wrote `outcome` (a failure, retry, snooze or cancel) and `changed` rows: 0 means the write
   * was fenced out, and nothing is reported. A completion goes through `awaitBatch` instead.
   */
  recorded(outcome: AttemptOutcome, changed: number | void): void {
    this.outcome = outcome;
    if (outcome.kind === 'complete') this.lifecycle.awaitBatch(this);
    else if (changed !== 0) this.report();
  }

  /** The worker dropped this attempt: cancelled (reported) or handed back at shutdown (not). */
  abandoned(signal: AbortSignal): void {
    if (!(signal.reason instanceof JobCancelledError)) return;
    this.durationMs = performance.now() - this.startedAt;
    this.outcome = { kind: 'cancel' };
    this.report();
  }

  /** Reports the noted outcome. */
  report(): void {
    if (this.outcome) this.lifecycle.report(this, this.outcome);
  }

  /** The event that says how this attempt ended. */
  event(outcome: AttemptOutcome): JobEvent {
    const j = this.job;
    const b = {
      id: j.id,
      name: j.name,
      queue: j.queue,
      accountId: j.accountId,
      attempt: j.attempt,
      maxAttempts: j.maxAttempts,
      durationMs: Math.round(this.durationMs * 1000) / 1000,
    };
    switch (outcome.kind) {
      case 'complete':
        return {
          type: 'completed',
          ...b,
          result: outcome.result === null ? null : JSON.parse(outcome.result),
        };
      case 'retry':
        return {
          type: 'retrying',
          ...b,
          error: outcome.error,
          runAt: new Date(Date.now() + outcome.delayMs),
        };
      case 'fail':
        return { type: 'failed', ...b, error: outcome.error };
      case 'snooze':
        return { type: 'snoozed', ...b, runAt: new Date(Date.now() + outcome.delayMs) };
      case 'cancel':
        return { type: 'cancelled', ...b };
    }
  }
}
