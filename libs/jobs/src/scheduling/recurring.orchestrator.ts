import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
  Type,
} from '@nestjs/common';
import { ModuleRef, Reflector } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import type { JobDefinition } from '../discovery/job-definition';
import { JobRegistry } from '../discovery/job.registry';
import { JobDefinitionError, toError } from '../errors';
import type { AccountSource, RecurringOptions, ScheduleDefinition } from '../interfaces';
import { RECURRING_METADATA, RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import { JobsDatabase } from '../persistence/jobs-database';
import { lastTickSql } from '../persistence/sql/recurring.sql';
import { JobQueueService } from '../queue/job-queue.service';
import type { JobClass } from '../interfaces/enqueue-options.interface';
import { toValidPayload } from '../payload/payload';
import { FireTimes } from './fire-times';
import { TickGuard } from './tick-guard';

/** A schedule ready to tick. */
interface MountedSchedule {
  key: string;
  options: RecurringOptions;
  definition: JobDefinition;
  fireTimes: FireTimes;
  cronName: string;
}

const MAX_CATCH_UP = 100;

/**
 * Owns recurring schedules: collects `@Recurring` and configured schedules once jobs are discovered,
 * registers one cron per schedule in @nestjs/schedule's `SchedulerRegistry` on bootstrap, and removes them
 * before shutdown. Each tick enqueues through the tick guard, so N replicas produce one job per tick.
 */
@Injectable()
export class RecurringOrchestrator implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('RecurringJobs');
  private readonly mounted: MountedSchedule[] = [];
  private accountSource: AccountSource | undefined;

  constructor(
    private readonly registry: JobRegistry,
    private readonly reflector: Reflector,
    private readonly moduleRef: ModuleRef,
    private readonly queue: JobQueueService,
    private readonly guard: TickGuard,
    private readonly db: JobsDatabase,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.options.recurring.enabled) return;
    const schedules = await this.collect();
    if (schedules.length === 0) return;
    const scheduler = this.schedulerRegistry();
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
    const scheduler = this.mounted.length > 0 ? this.schedulerRegistry() : undefined;
    for (const schedule of this.mounted.splice(0)) {
      if (!scheduler?.doesExist('cron', schedule.cronName)) continue;
      void scheduler.getCronJob(schedule.cronName).stop();
      scheduler.deleteCronJob(schedule.cronName);
    }
  }

  /** Enqueues the tick scheduled at `fireTime` unless another replica already did; returns its job ids. */
  async enqueueTick(schedule: MountedSchedule, fireTime: Date): Promise<string[]> {
    const { jobIds, enqueued } = await this.guard.once(schedule.key, fireTime, async (manager) => {
      const accounts = schedule.options.perAccount
        ? await this.accounts().listAccountIds()
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
    const [row] = await this.db.query<{ fire_time: Date | null }>(
      lastTickSql(this.options.schema),
      [schedule.key],
    );
    if (!row?.fire_time) return; // a new schedule has missed nothing
    const missed = schedule.fireTimes.between(
      row.fire_time,
      new Date(Date.now() - 1),
      MAX_CATCH_UP,
    );
    const due = policy === 'latest' ? missed.slice(-1) : missed;
    for (const fireTime of due) await this.enqueueTick(schedule, fireTime);
    if (due.length > 0) this.logger.log(`${schedule.key}: enqueued ${due.length} missed tick(s)`);
  }

  private async collect(): Promise<MountedSchedule[]> {
    const declared: Array<{ options: RecurringOptions; definition: JobDefinition }> = [];
    for (const definition of this.registry.all()) {
      const list =
        this.reflector.get<RecurringOptions[] | undefined>(RECURRING_METADATA, definition.type) ??
        [];
      list.forEach((options) => declared.push({ options, definition }));
    }
    for (const schedule of this.options.recurring.schedules) {
      declared.push({ options: schedule, definition: this.definitionOf(schedule) });
    }
    const seen = new Set<string>();
    const schedules: MountedSchedule[] = [];
    for (const { options, definition } of declared) {
      const key = options.key ?? definition.name;
      const where = `schedule "${key}" of job "${definition.name}"`;
      if (seen.has(key)) {
        throw new JobDefinitionError(
          `Two schedules have the key "${key}". Give each schedule of a job its own key.`,
        );
      }
      seen.add(key);
      let fireTimes: FireTimes;
      try {
        fireTimes = new FireTimes(options.cron, options.timeZone ?? 'UTC');
        fireTimes.next(new Date());
      } catch (error) {
        throw new JobDefinitionError(
          `${where}: invalid cron "${options.cron}" or time zone "${options.timeZone}": ${toError(error).message}`,
        );
      }
      if (options.perAccount && definition.tenant === 'none') {
        throw new JobDefinitionError(
          `${where}: perAccount needs a tenant-scoped job, but the job is tenant: 'none'.`,
        );
      }
      if (options.perAccount) this.accounts(where); // fail at startup, not at the first tick
      if (
        !options.perAccount &&
        definition.tenant === 'required' &&
        this.options.tenant &&
        !options.accountId
      ) {
        throw new JobDefinitionError(
          `${where}: the job is tenant-scoped; set perAccount: true, an accountId, or make the job tenant: 'none'.`,
        );
      }
      await toValidPayload(definition, options.payload ?? {}, this.options.validatorOptions).catch(
        (error: unknown) => {
          throw new JobDefinitionError(`${where}: ${toError(error).message}`);
        },
      );
      schedules.push({ key, options, definition, fireTimes, cronName: `jobs:${key}` });
    }
    return schedules;
  }

  private definitionOf(schedule: ScheduleDefinition): JobDefinition {
    const definition =
      typeof schedule.job === 'string'
        ? this.registry.forName(schedule.job)
        : this.registry.forType(schedule.job);
    if (!definition) {
      throw new JobDefinitionError(
        `recurring.schedules names job "${String(schedule.job)}", which is not a registered @Job.`,
      );
    }
    return definition;
  }

  private schedulerRegistry(): SchedulerRegistry {
    try {
      return this.moduleRef.get(SchedulerRegistry, { strict: false });
    } catch {
      throw new JobDefinitionError(
        'Recurring jobs are declared but @nestjs/schedule is not set up: import ScheduleModule.forRoot() in the app module.',
      );
    }
  }

  /** The app's account source for `perAccount` fan-out; throws a startup error naming `where` if absent. */
  private accounts(where = 'a perAccount schedule'): AccountSource {
    if (this.accountSource) return this.accountSource;
    const source = this.options.tenant?.accounts;
    if (!source) {
      throw new JobDefinitionError(
        `${where}: perAccount needs an account source: set tenant.accounts in JobsModule options.`,
      );
    }
    let resolved: AccountSource;
    try {
      resolved =
        typeof source === 'function'
          ? this.moduleRef.get(source as Type<AccountSource>, { strict: false })
          : source;
    } catch {
      throw new JobDefinitionError(
        `${where}: tenant.accounts names ${(source as Type<AccountSource>).name}, which no module ` +
          `provides. Add it to the providers of a module the app imports.`,
      );
    }
    return (this.accountSource = resolved);
  }
}
