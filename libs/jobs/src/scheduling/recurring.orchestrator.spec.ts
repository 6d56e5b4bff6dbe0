/* eslint-disable @typescript-eslint/no-require-imports -- the orchestrator is loaded into a fresh registry */
import type { ModuleRef } from '@nestjs/core';
import { FireTimes } from '../cron/fire-times';
import type { JobDefinition } from '../discovery/job-definition';
import type * as Errors from '../errors';
import { resolveJobsOptions } from '../jobs-options';
import type { TicksRepository } from '../persistence/ticks.repository';
import type { JobQueueService } from '../queue/job-queue.service';
import type { AccountSources } from './account-sources';
import type * as Orchestrator from './recurring.orchestrator';
import type { MountedSchedule, ScheduleCollector } from './schedule.collector';

const schedule: MountedSchedule = {
  key: 'digest',
  options: { cron: '0 8 * * *' },
  definition: { name: 'digest.send' } as JobDefinition,
  fireTimes: new FireTimes('0 8 * * *', 'UTC'),
  cronName: 'jobs:digest',
};

/** An orchestrator over fakes, loaded with `@nestjs/schedule` missing; nothing here touches a database. */
function orchestratorWithoutSchedulePackage(schedules: MountedSchedule[]) {
  jest.doMock('@nestjs/schedule', () => {
    throw Object.assign(new Error("Cannot find module '@nestjs/schedule'"), {
      code: 'MODULE_NOT_FOUND',
    });
  });
  const { RecurringOrchestrator } = require('./recurring.orchestrator') as typeof Orchestrator;
  const errors = require('../errors') as typeof Errors;
  const moduleRef = {
    get: jest.fn(() => {
      throw new Error('no SchedulerRegistry');
    }),
  };
  const orchestrator = new RecurringOrchestrator(
    { collect: async () => schedules } as unknown as ScheduleCollector,
    {} as AccountSources,
    moduleRef as unknown as ModuleRef,
    {} as JobQueueService,
    { lastFireTime: async () => null } as unknown as TicksRepository,
    resolveJobsOptions({}),
  );
  return { orchestrator, errors, moduleRef };
}

describe('RecurringOrchestrator without @nestjs/schedule installed', () => {
  afterEach(() => jest.dontMock('@nestjs/schedule'));

  it('stops startup when a schedule is declared, saying to install and import it', async () => {
    await jest.isolateModulesAsync(async () => {
      const { orchestrator, errors } = orchestratorWithoutSchedulePackage([schedule]);
      const error = await orchestrator.onApplicationBootstrap().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(errors.MissingDependencyError);
      expect(error).toBeInstanceOf(errors.JobsError);
      expect((error as Error).message).toBe(
        'Recurring schedule "digest" of job "digest.send" needs @nestjs/schedule, which is not ' +
          'installed: run `npm install @nestjs/schedule` and import ScheduleModule.forRoot() in the app module.',
      );
    });
  });

  it('starts without it when no schedule is declared', async () => {
    await jest.isolateModulesAsync(async () => {
      const { orchestrator, moduleRef } = orchestratorWithoutSchedulePackage([]);
      await expect(orchestrator.onApplicationBootstrap()).resolves.toBeUndefined();
      orchestrator.beforeApplicationShutdown();
      expect(moduleRef.get).not.toHaveBeenCalled();
    });
  });
});
