import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckResult, HealthCheckService } from '@nestjs/terminus';
import { JobsHealthIndicator } from 'nestjs-tenant-jobs';

/**
 * `GET /health`: 200 while the jobs are healthy, 503 when the worker stopped or stopped heartbeating,
 * the database does not answer, or a due job has waited more than a minute.
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly jobs: JobsHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.jobs.isHealthy('jobs', { maxOldestAvailableAgeMs: 60_000 }),
    ]);
  }
}
