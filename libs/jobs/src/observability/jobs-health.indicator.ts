import { Inject, Injectable } from '@nestjs/common';
import type { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { toError } from '../errors';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import { ObservabilityRepository } from '../persistence/observability.repository';
import { JobLifecycle } from './job-lifecycle';
import { loadTerminusPackage } from './terminus-package';
import { WORKER_STATUS, type WorkerStatus } from './worker-status';

/** Thresholds of `JobsHealthIndicator.isHealthy`. */
export interface JobsHealthOptions {
  /**
   * Down when the oldest due job has waited longer than this (the workers do not keep up, or none
   * serves its queue). Default: not checked.
   */
  maxOldestAvailableAgeMs?: number;
  /** Down when this worker's last heartbeat is older. Default: 3 × `worker.heartbeatIntervalMs`. */
  maxHeartbeatAgeMs?: number;
}

/**
 * A `@nestjs/terminus` health indicator for the jobs of this process (`@nestjs/terminus` is an optional
 * peer, loaded on the first check). Down when the database does not answer, when the worker (unless
 * `worker.enabled` is false) is not running or its heartbeat is stale, or when the oldest due job is
 * older than `maxOldestAvailableAgeMs`. The LISTEN connection is reported, not required: while it
 * reconnects the worker polls.
 *
 * @example
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.jobs.isHealthy('jobs', { maxOldestAvailableAgeMs: 60_000 })]); }
 */
@Injectable()
export class JobsHealthIndicator {
  private service: HealthIndicatorService | undefined;

  constructor(
    @Inject(WORKER_STATUS) private readonly worker: WorkerStatus,
    private readonly repository: ObservabilityRepository,
    private readonly lifecycle: JobLifecycle,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
  ) {}

  /** Checks the jobs' health; the result's `key` is `key` (default `'jobs'`). */
  async isHealthy<const Key extends string = 'jobs'>(
    key: Key = 'jobs' as Key,
    thresholds: JobsHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const { HealthIndicatorService } = loadTerminusPackage('JobsHealthIndicator');
    const session = (this.service ??= new HealthIndicatorService()).check(key);
    const problems: string[] = [];
    const data: Record<string, unknown> = {};
    const workerEnabled = this.options.worker.enabled;
    data.worker = !workerEnabled ? 'disabled' : this.worker.isRunning ? 'running' : 'stopped';
    if (workerEnabled && !this.worker.isRunning) problems.push('the worker is not running');
    if (workerEnabled && this.worker.isRunning)
      data.listen = this.worker.listening
        ? 'connected'
        : this.options.listen === false
          ? 'off (polling)'
          : 'reconnecting (polling meanwhile)';
    try {
      const age = await this.repository.heartbeatAgeMs(this.worker.id);
      data.database = 'up';
      if (workerEnabled && this.worker.isRunning) {
        const max = thresholds.maxHeartbeatAgeMs ?? 3 * this.options.worker.heartbeatIntervalMs;
        data.heartbeatAgeMs = age === undefined ? null : Math.round(age);
        if (age === undefined || age > max)
          problems.push(`the worker has not heartbeaten for more than ${max} ms`);
      }
      if (thresholds.maxOldestAvailableAgeMs !== undefined) {
        const stats = await this.lifecycle.stats.get();
        const oldestMs = Math.max(0, ...stats.map((q) => q.oldestAgeSeconds * 1000));
        data.oldestAvailableAgeMs = Math.round(oldestMs);
        if (oldestMs > thresholds.maxOldestAvailableAgeMs)
          problems.push(
            `the oldest due job has waited ${Math.round(oldestMs)} ms (more than ${thresholds.maxOldestAvailableAgeMs})`,
          );
      }
    } catch (error) {
      data.database = 'down';
      problems.push(`the database does not answer: ${toError(error).message}`);
    }
    if (problems.length === 0) return session.up(data);
    return session.down({ ...data, message: problems.join('; ') });
  }
}
