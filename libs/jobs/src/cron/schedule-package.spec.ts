/* eslint-disable @typescript-eslint/no-require-imports -- each test loads modules into a fresh registry */
import type * as CronLoader from './schedule-package';
import type * as Errors from '../errors';

/** What `require('@nestjs/schedule')` throws when the package is not installed. */
function scheduleNotInstalled(): never {
  throw Object.assign(new Error("Cannot find module '@nestjs/schedule'"), {
    code: 'MODULE_NOT_FOUND',
  });
}

describe('loadSchedulePackage', () => {
  afterEach(() => jest.dontMock('@nestjs/schedule'));

  it('loads @nestjs/schedule on first use, once', () => {
    jest.isolateModules(() => {
      const { loadSchedulePackage } = require('./schedule-package') as typeof CronLoader;
      const loaded = loadSchedulePackage('a test');
      expect(typeof loaded.SchedulerRegistry).toBe('function');
      expect(loadSchedulePackage('a test')).toBe(loaded);
    });
  });

  it('without @nestjs/schedule, throws a JobsError saying how to install and set it up', () => {
    jest.isolateModules(() => {
      jest.doMock('@nestjs/schedule', scheduleNotInstalled);
      const { loadSchedulePackage } = require('./schedule-package') as typeof CronLoader;
      const { JobsError, MissingDependencyError } = require('../errors') as typeof Errors;
      let error: unknown;
      try {
        loadSchedulePackage('Recurring schedule "digest"');
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MissingDependencyError);
      expect(error).toBeInstanceOf(JobsError);
      expect(error).toMatchObject({
        packageName: '@nestjs/schedule',
        message:
          'Recurring schedule "digest" needs @nestjs/schedule, which is not installed: run ' +
          '`npm install @nestjs/schedule` and import ScheduleModule.forRoot() in the app module.',
      });
    });
  });

  it('rethrows any other load failure as it is', () => {
    jest.isolateModules(() => {
      jest.doMock('@nestjs/schedule', () => {
        throw new SyntaxError('broken install');
      });
      const { loadSchedulePackage } = require('./schedule-package') as typeof CronLoader;
      expect(() => loadSchedulePackage('a test')).toThrow(SyntaxError);
    });
  });
});
