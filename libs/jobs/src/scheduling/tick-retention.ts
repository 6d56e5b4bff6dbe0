import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { toError } from '../errors';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import { TicksRepository } from '../persistence/ticks.repository';

/** Tick records are kept 30 days: long enough for any schedule's missed-tick check (and for audits). */
export const TICK_RETENTION_MS = 30 * 86_400_000;

/** How often old tick records are purged. Hourly: tick rows grow by at most one per schedule per tick. */
export const TICK_PURGE_INTERVAL_MS = 3_600_000;

/**
 * Purges old recurring tick records (of `@Recurring` schedules and `oncePerTick` crons) on its own interval
 * in every process where recurring is enabled. Each schedule's newest record is always kept.
 */
@Injectable()
export class TickRetention implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('RecurringJobs');
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ticks: TicksRepository,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.options.recurring.enabled) return;
    this.timer = setInterval(() => void this.purge(), TICK_PURGE_INTERVAL_MS);
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Deletes tick records past `TICK_RETENTION_MS`; a failure is logged and retried next interval. */
  async purge(): Promise<void> {
    try {
      await this.ticks.purge(TICK_RETENTION_MS);
    } catch (error) {
      this.logger.warn(`Tick record purge failed: ${toError(error).message}`);
    }
  }
}
