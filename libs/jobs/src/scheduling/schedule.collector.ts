import { Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { FireTimes } from '../cron/fire-times';
import type { JobDefinition } from '../discovery/job-definition';
import { JobRegistry } from '../discovery/job.registry';
import { JobDefinitionError, toError } from '../errors';
import { checkName } from '../values';
import type { RecurringOptions, ScheduleDefinition } from '../interfaces';
import { RECURRING_METADATA, RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import { toValidPayload } from '../payload/payload';
import { AccountSources } from './account-sources';

/** A schedule ready to tick. */
export interface MountedSchedule {
  /** The tick guard's identity. */
  key: string;
  options: RecurringOptions;
  definition: JobDefinition;
  fireTimes: FireTimes;
  /** Its name in @nestjs/schedule's `SchedulerRegistry`. */
  cronName: string;
}

/**
 * Collects the `@Recurring` schedules of the discovered jobs and the configured ones, and checks each
 * (unique key, valid cron and zone, a tenant rule that can be met, a valid payload) so that a mistake
 * stops startup instead of failing every tick.
 */
@Injectable()
export class ScheduleCollector {
  constructor(
    private readonly registry: JobRegistry,
    private readonly reflector: Reflector,
    private readonly accounts: AccountSources,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
  ) {}

  /** Every schedule, checked; throws `JobDefinitionError` for the first invalid one. */
  async collect(): Promise<MountedSchedule[]> {
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
      // The key is stored in every tick record (its primary key): it must be a name PostgreSQL stores.
      const keyProblem = checkName(key, 'scheduleKey');
      if (keyProblem !== undefined) {
        throw new JobDefinitionError(
          `A schedule of job "${definition.name}": key ${keyProblem} Give the schedule a plain key.`,
        );
      }
      if (seen.has(key)) {
        throw new JobDefinitionError(
          `Two schedules have the key "${key}". Give each schedule of a job its own key.`,
        );
      }
      seen.add(key);
      const fireTimes = await this.check(key, options, definition);
      schedules.push({ key, options, definition, fireTimes, cronName: `jobs:${key}` });
    }
    return schedules;
  }

  private async check(
    key: string,
    options: RecurringOptions,
    definition: JobDefinition,
  ): Promise<FireTimes> {
    const where = `schedule "${key}" of job "${definition.name}"`;
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
    if (options.perAccount) this.accounts.get(where); // fail at startup, not at the first tick
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
    return fireTimes;
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
}
