import { Inject, Injectable, Logger } from '@nestjs/common';
import type { JobDefinition } from '../discovery/job-definition';
import { JobRegistry } from '../discovery/job.registry';
import { SnoozeSignal } from '../errors/snooze.signal';
import {
  AccountUnavailableError,
  DiscardJobError,
  InvalidPayloadError,
  JobTimeoutError,
  toError,
  UnknownJobError,
} from '../errors';
import type { JobContext } from '../interfaces';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import { toValidPayload } from '../payload/payload';
import { TenantContext } from '../tenancy/tenant-context';

/** The part of a job row an attempt needs. */
export interface JobAttempt {
  id: string;
  name: string;
  queue: string;
  payload: unknown;
  accountId: string | null;
  attempt: number;
  maxAttempts: number;
}

/** How an attempt ended. `retryable: false` fails the job at once whatever attempts are left. */
export type AttemptOutcome =
  | { kind: 'completed'; result: unknown }
  | { kind: 'snoozed'; delayMs: number }
  | { kind: 'failed'; error: Error; retryable: boolean; definition?: JobDefinition };

/** Errors no retry can fix: the job fails at once whatever its attempts. */
const NEVER_RETRIED = [
  AccountUnavailableError,
  InvalidPayloadError,
  UnknownJobError,
  DiscardJobError,
];

/**
 * Performs one attempt of one job: finds its handler, re-validates the stored payload, enters the job's
 * tenant context, enforces its timeout, and reports the outcome instead of throwing. Shared by the worker
 * and `performNow`, so both apply the same rules. Override `perform` (a subclass provided in its place) to
 * wrap every handler call, e.g. for tracing.
 */
@Injectable()
export class JobRunner {
  private readonly loggers = new Map<string, Logger>();

  constructor(
    private readonly registry: JobRegistry,
    private readonly tenancy: TenantContext,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
  ) {}

  /** Runs a claimed attempt and reports its outcome; never rejects. */
  run(job: JobAttempt, signal: AbortSignal): Promise<AttemptOutcome> {
    const definition = this.registry.forName(job.name);
    if (!definition)
      return Promise.resolve({
        kind: 'failed',
        error: new UnknownJobError(job.name),
        retryable: false,
      });
    return this.execute(definition, job, signal).then(
      (result): AttemptOutcome => ({ kind: 'completed', result }),
      (thrown: unknown): AttemptOutcome => {
        if (thrown instanceof SnoozeSignal) return { kind: 'snoozed', delayMs: thrown.delayMs };
        const error = toError(thrown);
        return {
          kind: 'failed',
          error,
          retryable: this.isRetryable(definition, error),
          definition,
        };
      },
    );
  }

  private isRetryable(definition: JobDefinition, error: Error): boolean {
    if (NEVER_RETRIED.some((type) => error instanceof type)) return false;
    if (definition.discardOn.some((type) => error instanceof type)) return false;
    return !definition.retryOn || definition.retryOn.some((type) => error instanceof type);
  }

  /** Runs an attempt in the job's tenant context, with its payload re-validated and its timeout; rejects with its error. */
  execute(definition: JobDefinition, job: JobAttempt, signal: AbortSignal): Promise<unknown> {
    return this.tenancy.run(job, () =>
      toValidPayload(definition, job.payload, this.options.validatorOptions).then((payload) =>
        this.withTimeout(definition, signal, (s) =>
          this.perform(definition, payload, this.context(job, s)),
        ),
      ),
    );
  }

  /** Calls the handler. The single place every perform goes through. */
  perform(definition: JobDefinition, payload: unknown, ctx: JobContext): Promise<unknown> {
    return Promise.resolve(definition.instance.perform(payload, ctx));
  }

  /** Calls `fn` with the job's signal, under the job's timeout if it has one. */
  private withTimeout<T>(
    definition: JobDefinition,
    outer: AbortSignal,
    fn: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    // Without a timeout the caller's signal is the job's signal: no second controller on the hot path.
    if (definition.timeoutMs === undefined) return fn(outer);
    return this.raceTimeout(definition, definition.timeoutMs, outer, fn);
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
    fn: (signal: AbortSignal) => Promise<T>,
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

  private context(job: JobAttempt, signal: AbortSignal): JobContext {
    return {
      id: job.id,
      name: job.name,
      queue: job.queue,
      attempt: job.attempt,
      maxAttempts: job.maxAttempts,
      accountId: job.accountId,
      signal,
      logger: this.loggerFor(job.name),
      snooze,
    };
  }
}

function snooze(delayMs: number): never {
  throw new SnoozeSignal(Math.max(0, Math.round(delayMs)));
}
