import { Inject, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { JobRegistry } from '../discovery/job.registry';
import { JobsError } from '../errors';
import { SnoozeSignal } from '../errors/snooze.signal';
import type { JobClass, PerformNowOptions } from '../interfaces';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import { serializePayload } from '../payload/payload';
import { TenantContext } from '../tenancy/tenant-context';
import { JobRunner } from './job-runner';

/**
 * `JobQueueService.performNow`: one attempt in this process, without a row, through the same
 * `JobRunner.execute` as the worker (payload validation, a fresh CLS context in the job's account, its
 * timeout), so both apply the same rules. Errors go to the caller; nothing is retried.
 */
@Injectable()
export class PerformNowRunner {
  constructor(
    private readonly registry: JobRegistry,
    private readonly tenancy: TenantContext,
    private readonly runner: JobRunner,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
  ) {}

  /** Performs `payload` with `job` in the current (or given) account and returns its result. */
  async perform<P, R>(
    job: JobClass<P, R>,
    payload: P,
    options: PerformNowOptions,
  ): Promise<Awaited<R>> {
    const definition = this.registry.forType(job);
    const accountId = this.tenancy.captureFor(definition, options.accountId);
    serializePayload(definition, payload, this.options.maxPayloadBytes); // same size limit as an enqueue
    // The runner validates the payload (as it does before every perform) and throws InvalidPayloadError.
    const attempt = {
      id: `now-${randomUUID()}`,
      name: definition.name,
      queue: definition.queue,
      payload,
      accountId,
      attempt: 1,
      maxAttempts: 1,
    };
    try {
      return (await this.runner.execute(
        definition,
        attempt,
        new AbortController().signal,
      )) as Awaited<R>;
    } catch (error) {
      if (error instanceof SnoozeSignal) {
        throw new JobsError(
          `Job "${definition.name}" snoozed in performNow, which runs it once; enqueue it to allow snoozing.`,
        );
      }
      throw error;
    }
  }
}
