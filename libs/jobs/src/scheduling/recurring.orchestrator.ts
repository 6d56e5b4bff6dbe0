import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { loadSchedulePackage } from '../cron/schedule-package';
import { JobDefinitionError, toError } from '../errors';
import type { JobClass } from '../interfaces';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import { TicksRepository } from '../persistence/ticks.repository';
import { JobQueueService } from '../queue/job-queue.service';
import { AccountSources } from './account-sources';
import { MountedSchedule, ScheduleCollector } from './schedule.collector';

/** Missed ticks enqueued at most, per schedule, at startup. */
const MAX_CATCH_UP = 100;

/**
 * Owns recurring schedules: collects `@Recurring` and configured schedules once jobs are discovered,
 * registers one cron per schedule in @nestjs/schedule's `SchedulerRegistry` on bootstrap, and removes them
 * before shutdown. Each tick enqueues through the tick guard, so N replicas produce one job per tick.
 * `@nestjs/schedule` is loaded only when there is a schedule to mount.
 */
@Injectable()
export class RecurringOrchestrator implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('RecurringJobs');
  private readonly mounted: MountedSchedule[] = [];

  constructor(
    private readonly collector: ScheduleCollector,
    private readonly accounts: AccountSources,
    private readonly moduleRef: ModuleRef,
    private readonly queue: JobQueueService,
    private readonly ticks: TicksRepository,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.options.recurring.enabled) return;
    const schedules = await this.collector.collect();
    if (schedules.length === 0) return;
    const scheduler = this.schedulerRegistry(schedules[0]);
    for (const schedule of schedules) {
      await this.catchUp(schedule);
      const cron = CronJob.from({
        cronTime: schedule.options.cron,
        timeZone: schedule.fireTimes.timeZone,
        onTick: () => this.tick(schedule),
        start: false,
      });
      scheduler.addCronJob(schedule.cronName, cron);
      cron.start();
      this.mounted.push(schedule);
    }
    this.logger.log(
      `Scheduled ${this.mounted.map((s) => `${s.key} (${s.options.cron} ${s.fireTimes.timeZone})`).join(', ')}`,
    );
  }

  beforeApplicationShutdown(): void {
    const scheduler = this.mounted.length > 0 ? this.schedulerRegistry(this.mounted[0]) : undefined;
    for (const schedule of this.mounted.splice(0)) {
      if (!scheduler?.doesExist('cron', schedule.cronName)) continue;
      void scheduler.getCronJob(schedule.cronName).stop();
      scheduler.deleteCronJob(schedule.cronName);
    }
  }

  /** Enqueues the tick scheduled at `fireTime` unless another replica already did; returns its job ids. */
  async enqueueTick(schedule: MountedSchedule, fireTime: Date): Promise<string[]> {
    const { jobIds, enqueued } = await this.ticks.once(schedule.key, fireTime, async (manager) => {
      const accounts = schedule.options.perAccount
        ? await this.accounts.get().listAccountIds()
        : [schedule.options.accountId];
      const payload = schedule.options.payload ?? {};
      return this.queue.performAllLater(
        schedule.definition.type as JobClass,
        accounts.map((accountId) => ({
          payload,
          accountId,
          queue: schedule.options.queue,
          priority: schedule.options.priority,
        })),
        { manager },
      );
    });
    if (enqueued)
      this.logger.debug?.(
        `${schedule.key} @ ${fireTime.toISOString()}: enqueued ${jobIds.length} job(s)`,
      );
    return jobIds;
  }

  private async tick(schedule: MountedSchedule): Promise<void> {
    const fireTime = schedule.fireTimes.current(new Date());
    if (!fireTime) return;
    try {
      await this.enqueueTick(schedule, fireTime);
    } catch (error) {
      this.logger.error(
        `Schedule ${schedule.key} could not enqueue its ${fireTime.toISOString()} tick: ${toError(error).message}`,
      );
    }
  }

  /** Enqueues ticks missed while no replica ran, per the schedule's `missedTicks` policy. */
  private async catchUp(schedule: MountedSchedule): Promise<void> {
    const policy = schedule.options.missedTicks ?? 'skip';
    if (policy === 'skip') return;
    const last = await this.ticks.lastFireTime(schedule.key);
    if (!last) return; // a new schedule has missed nothing
    const missed = schedule.fireTimes.between(last, new Date(Date.now() - 1), MAX_CATCH_UP);
    const due = policy === 'latest' ? missed.slice(-1) : missed;
    for (const fireTime of due) await this.enqueueTick(schedule, fireTime);
    if (due.length > 0) this.logger.log(`${schedule.key}: enqueued ${due.length} missed tick(s)`);
  }

  /** The app's `SchedulerRegistry`; a startup error naming `schedule` if the package or module is missing. */
  private schedulerRegistry(schedule: MountedSchedule): SchedulerRegistry {
    const where = `Recurring schedule "${schedule.key}" of job "${schedule.definition.name}"`;
    const { SchedulerRegistry: registryType } = loadSchedulePackage(where);
    try {
      return this.moduleRef.get(registryType, { strict: false });
    } catch {
      throw new JobDefinitionError(
        'Recurring jobs are declared but @nestjs/schedule is not set up: import ScheduleModule.forRoot() in the app module.',
      );
    }
  }
}
