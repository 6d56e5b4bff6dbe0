import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { JobDefinition } from '../discovery/job-definition';
import { JobRegistry } from '../discovery/job.registry';
import { SnoozeSignal } from '../errors/snooze.signal';
import { JobCancelledError, JobTimeoutError, UnknownJobError } from '../errors';
import type { HandlerInvoker, JobContext } from '../interfaces';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import { toValidPayload, trustedPayload, UNTRUSTED } from '../payload/payload';
import { JobLifecycle } from '../observability/job-lifecycle';
import { checkProgress } from '../observability/job-progress';
import type { JobAttempt } from '../persistence/job-attempt';
import { TenantContext } from '../tenancy/tenant-context';
import { isRetryable, retryDelay, snoozeOf } from './attempt-policy';
import { toErrorRecord, toSafeError } from './error-record';
import { JobInvoker } from './job-invoker';
import type { JobTransition } from './job-transition';
import { AttemptContext } from './attempt-context';
import { type AttemptSignal, signalOf } from './lazy-abort';
import { mayHoldUnstorableText, toStorableJson } from '../values';

export type { JobAttempt } from '../persistence/job-attempt';

const CANCEL: JobTransition = { kind: 'cancel' };
const COMPLETE_EMPTY: JobTransition = { kind: 'complete', result: null };

/**
 * Performs one attempt of one job (finds its handler, re-validates the stored payload when its rules changed, enters the job's
 * tenant context, enforces its timeout, calls the handler through `JobInvoker`) and decides what happens
 * next (`attempt`). Shared by the worker and `performNow` (`execute`), so both apply the same rules.
 */
@Injectable()
export class JobRunner {
  private readonly loggers = new Map<string, Logger>();
  private readonly invoker: HandlerInvoker;

  constructor(
    private readonly registry: JobRegistry,
    private readonly tenancy: TenantContext,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
    // JobsModule and JobsTestingModule provide it; optional for a module that provides the runner alone.
    @Optional() invoker?: JobInvoker,
    // Optional too: without it (the testing module) `ctx.progress` checks its value and stores nothing.
    @Optional() private readonly lifecycle?: JobLifecycle,
  ) {
    this.invoker = invoker ?? new JobInvoker();
  }

  /**
   * Runs a claimed attempt and returns the one transition to record; never rejects. A result is stored
   * as JSON with NUL and lone surrogates replaced by U+FFFD (a result JSON cannot hold at all is dropped:
   * the job completes without one); a thrown value of any kind becomes an error record; a retry's delay
   * follows the job's backoff (a backoff function that throws means `backoff.maxMs`), capped at
   * `MAX_DELAY_MS`; an invalid snooze fails the attempt with `InvalidSnoozeError`.
   */
  attempt(job: JobAttempt, signal: AttemptSignal): Promise<JobTransition> {
    const definition = this.registry.forName(job.name);
    if (!definition)
      return Promise.resolve(this.failure(undefined, job, new UnknownJobError(job.name)));
    return this.execute(definition, job, signal).then(
      (result) => (isCancelled(signal) ? CANCEL : this.completion(job, result)),
      (thrown: unknown) => this.afterThrow(definition, job, signal, thrown),
    );
  }

  /**
   * Runs an attempt in the job's tenant context, with its payload re-validated if its rules changed since
   * enqueue (or were not recorded), all of it under the job's
   * timeout: the account resolver and the payload validation count too, so a resolver that never settles
   * fails the attempt with `JobTimeoutError` and frees its slot (issue 13, finding 8). Rejects with the
   * attempt's error.
   */
  execute(definition: JobDefinition, job: JobAttempt, signal: AttemptSignal): Promise<unknown> {
    return this.withTimeout(definition, signal, (s) =>
      this.tenancy.run(job, () => {
        try {
          // Usually trusted (same rules as at enqueue, see `trustedPayload`): no promise on that path.
          const trusted = trustedPayload(definition, job.payload, job.payloadRules);
          if (trusted !== UNTRUSTED) return this.perform(definition, trusted, this.context(job, s));
        } catch (error) {
          return Promise.reject(error as Error); // a handler (or a payload constructor) that throws
        }
        return toValidPayload(definition, job.payload, this.options.validatorOptions).then(
          (payload) => this.perform(definition, payload, this.context(job, s)),
        );
      }),
    );
  }

  /** Calls the handler through the `JobInvoker` (the hook to override for tracing). */
  perform(definition: JobDefinition, payload: unknown, ctx: JobContext): Promise<unknown> {
    return this.invoker.invoke(definition, payload, ctx);
  }

  /**
   * The result as JSON text `jsonb` stores, within `limits.maxResultBytes`. A value JSON cannot hold at
   * all (a cycle, a BigInt, a throwing `toJSON`) is dropped: the job completes without a result, as it
   * always has. Otherwise the common case is one `JSON.stringify` and the cheap checks `values/` makes;
   * only text with U+0000 or a lone surrogate, or over the cap, goes through `values/`'s replace mode
   * (replaced characters, or the whole result replaced by a marker saying it was too large), with a
   * warning. The job completes either way: its work is done.
   */
  private completion(job: JobAttempt, result: unknown): JobTransition {
    if (result === undefined) return COMPLETE_EMPTY;
    let json: string | undefined;
    try {
      json = JSON.stringify(result);
    } catch (error) {
      this.loggerFor(job.name).warn(
        `Job ${job.name} #${job.id} completed, but its return value is not JSON (${toSafeError(error).message}); no result stored`,
      );
      return COMPLETE_EMPTY;
    }
    if (json === undefined) return COMPLETE_EMPTY;
    const maxBytes = this.options.limits.maxResultBytes;
    if (!mayHoldUnstorableText(json) && json.length * 3 <= maxBytes)
      return { kind: 'complete', result: json };
    // What was stringified (toJSON applied), through the careful path.
    const stored = toStorableJson(JSON.parse(json), {
      mode: 'replace',
      maxBytes,
      limitName: 'limits.maxResultBytes',
    });
    if (stored.replacedCount > 0) {
      const what = stored.replaced.map((r) => `${r.path} ${r.problem}`).join('; ');
      this.loggerFor(job.name).warn(
        `Job ${job.name} #${job.id} completed, but its result could not be stored as it was (${stored.replacedCount} replacement(s): ${what})`,
      );
    }
    return { kind: 'complete', result: stored.json };
  }

  private afterThrow(
    definition: JobDefinition,
    job: JobAttempt,
    signal: AttemptSignal,
    thrown: unknown,
  ): JobTransition {
    if (isCancelled(signal)) return CANCEL;
    const snoozed = snoozeOf(definition, thrown);
    if (typeof snoozed === 'number') return { kind: 'snooze', delayMs: snoozed };
    return this.failure(definition, job, snoozed ?? toSafeError(thrown));
  }

  /** A failed attempt: retried after its backoff while attempts are left and a retry can help, else failed. */
  private failure(
    definition: JobDefinition | undefined,
    job: JobAttempt,
    error: Error,
  ): JobTransition {
    const record = toErrorRecord(error, job.attempt, new Date(), this.options.limits);
    if (!definition || job.attempt >= job.maxAttempts || !isRetryable(definition, error))
      return { kind: 'fail', error: record };
    return { kind: 'retry', error: record, delayMs: retryDelay(definition, job.attempt, error) };
  }

  /** Calls `fn` (the whole attempt) with the job's signal, under the job's timeout if it has one. */
  private withTimeout<T>(
    definition: JobDefinition,
    outer: AttemptSignal,
    fn: (signal: AttemptSignal) => Promise<T>,
  ): Promise<T> {
    // Without a timeout the caller's signal is the job's signal: no second controller on the hot path.
    if (definition.timeoutMs === undefined) return fn(outer);
    return this.raceTimeout(definition, definition.timeoutMs, signalOf(outer), fn);
  }

  /**
   * Races the handler against its timeout. On timeout the job's signal is aborted and the attempt fails at
   * once: the worker slot is freed even if the handler ignores the signal, and whatever it does later is
   * dropped (its completion would be fenced out anyway).
   */
  private async raceTimeout<T>(
    definition: JobDefinition,
    timeoutMs: number,
    outer: AbortSignal,
    fn: (signal: AttemptSignal) => Promise<T>,
  ): Promise<T> {
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(outer.reason);
    if (outer.aborted) controller.abort(outer.reason);
    else outer.addEventListener('abort', onOuterAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    try {
      const work = fn(controller.signal);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const error = new JobTimeoutError(definition.name, timeoutMs);
          controller.abort(error);
          reject(error);
        }, timeoutMs);
      });
      work.catch(() => undefined); // a late rejection after the timeout must not go unhandled
      return await Promise.race([work, timeout]);
    } finally {
      if (timer) clearTimeout(timer);
      outer.removeEventListener('abort', onOuterAbort);
    }
  }

  private loggerFor(name: string): Logger {
    let logger = this.loggers.get(name);
    if (!logger) this.loggers.set(name, (logger = new Logger(`Job ${name}`)));
    return logger;
  }

  /** The handler's `ctx`; its `signal` is made on first read (see `AttemptContext`). */
  private context(job: JobAttempt, signal: AttemptSignal): JobContext {
    return new AttemptContext(job, signal, this.loggerFor(job.name), snooze, this.progressOf(job));
  }

  /** `ctx.progress` of one attempt: recorded by the lifecycle's `JobProgress`, or only checked. */
  private progressOf(job: JobAttempt): JobContext['progress'] {
    const progress = this.lifecycle?.progress;
    if (progress) return (value) => progress.report(job, value);
    return (value) => void checkProgress(job, value);
  }
}

function snooze(delayMs: number): never {
  throw new SnoozeSignal(delayMs);
}

function isCancelled(signal: AttemptSignal): boolean {
  return signal.aborted && signal.reason instanceof JobCancelledError;
}
