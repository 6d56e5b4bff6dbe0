/* eslint-disable @typescript-eslint/no-require-imports -- the package is loaded into a fresh registry */
import type * as NestTesting from '@nestjs/testing';
import type * as Cls from 'nestjs-cls';
import type * as Package from '../index';
import type * as TestingEntry from './index';

/**
 * `@nestjs/schedule` is an optional peer: an app without recurring jobs must load the package and enqueue
 * with it absent. Here every `require('@nestjs/schedule')` fails as it does when it is not installed.
 */
describe('without @nestjs/schedule installed', () => {
  afterEach(() => jest.dontMock('@nestjs/schedule'));

  it('the package and its testing entry load, and a job is enqueued', async () => {
    await jest.isolateModulesAsync(async () => {
      jest.doMock('@nestjs/schedule', () => {
        throw Object.assign(new Error("Cannot find module '@nestjs/schedule'"), {
          code: 'MODULE_NOT_FOUND',
        });
      });
      const { Job, JobQueueService, JobsModule } = require('../index') as typeof Package;
      const { JobsTestingModule, JobsTestHelper } = require('./index') as typeof TestingEntry;
      const { Test } = require('@nestjs/testing') as typeof NestTesting;
      const { ClsModule } = require('nestjs-cls') as typeof Cls;
      expect(JobsModule).toBeDefined();

      class PingJob {
        perform(): void {}
      }
      Job({ name: 'ping', tenant: 'none' })(PingJob);
      const moduleRef = await Test.createTestingModule({
        imports: [ClsModule.forRoot({ global: true }), JobsTestingModule.forRoot()],
        providers: [PingJob],
      }).compile();
      try {
        await moduleRef.init();
        const id = await moduleRef.get(JobQueueService).performLater(PingJob, {});
        expect(moduleRef.get(JobsTestHelper).enqueued()).toMatchObject([{ id, name: 'ping' }]);
      } finally {
        await moduleRef.close();
      }
    });
  });
});
