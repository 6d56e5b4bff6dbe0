import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { SchedulerRegistry } from '@nestjs/schedule';
import type { EntityManager } from 'typeorm';
import { FireTimes } from '../cron/fire-times';
import { loadSchedulePackage } from '../cron/schedule-package';
import { InvalidEnqueueOptionsError, JobsError } from '../errors';
import { JOB_STORE, JobStore } from '../persistence/job-store';
import { checkName } from '../values';

/**
 * The `oncePerTick` enqueue option: an enqueue from an app's own `@Cron` method runs once per tick of that
 * cron across every replica, guarded like a recurring schedule's tick (key `cron:<name>`).
 */
@Injectable()
export class OncePerTick {
  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(JOB_STORE) private readonly store: JobStore,
  ) {}

  /**
   * Runs `enqueue` unless this tick of `cronName` was already enqueued; returns the tick's job ids.
   * `cronName` becomes a tick record's key, so it is checked like a schedule key first (a name with
   * U+0000 or over 255 characters is an `InvalidEnqueueOptionsError` of `jobName`, sent nowhere).
   */
  async enqueue(
    cronName: string,
    enqueue: (manager: EntityManager) => Promise<string[]>,
    manager: EntityManager | undefined,
    jobName: string,
  ): Promise<string[]> {
    const problem = checkName(cronName, 'scheduleKey');
    if (problem !== undefined)
      throw new InvalidEnqueueOptionsError(jobName, 'oncePerTick', problem);
    const tick = await this.store.onceForTick(
      `cron:${cronName}`,
      () => this.currentFireTime(cronName),
      enqueue,
      manager,
    );
    return tick.jobIds;
  }

  /**
   * The scheduled time of the cron's tick running now, from its expression in `SchedulerRegistry`: replicas
   * agree on a tick by that time, never by the moment their timer fired.
   */
  private currentFireTime(cronName: string): Date {
    const { SchedulerRegistry: registryType } = loadSchedulePackage(`oncePerTick "${cronName}"`);
    let cron: ReturnType<SchedulerRegistry['getCronJob']>;
    try {
      cron = this.moduleRef.get(registryType, { strict: false }).getCronJob(cronName);
    } catch {
      throw new JobsError(
        `oncePerTick: no cron named "${cronName}" in SchedulerRegistry. Name your cron ` +
          `(@Cron(expression, { name: '${cronName}' })) and import ScheduleModule.forRoot() in the app module.`,
      );
    }
    const fireTime = new FireTimes(String(cron.cronTime.source), cron.cronTime.timeZone).current(
      new Date(),
    );
    if (!fireTime)
      throw new JobsError(`oncePerTick: cron "${cronName}" has no fire time in the past year.`);
    return fireTime;
  }
}
