/* eslint-disable @typescript-eslint/no-require-imports -- each test loads modules into a fresh registry */
import type * as Loader from './terminus-package';
import type * as Errors from '../errors';

describe('loadTerminusPackage', () => {
  afterEach(() => jest.dontMock('@nestjs/terminus'));

  it('loads @nestjs/terminus on first use, once', () => {
    jest.isolateModules(() => {
      const { loadTerminusPackage } = require('./terminus-package') as typeof Loader;
      const loaded = loadTerminusPackage('a test');
      expect(typeof loaded.HealthIndicatorService).toBe('function');
      expect(loadTerminusPackage('a test')).toBe(loaded);
    });
  });

  it('without @nestjs/terminus, the package loads and only the health check says how to install it', () => {
    jest.isolateModules(() => {
      jest.doMock('@nestjs/terminus', () => {
        throw Object.assign(new Error("Cannot find module '@nestjs/terminus'"), {
          code: 'MODULE_NOT_FOUND',
        });
      });
      expect(
        typeof (require('../index') as { JobsHealthIndicator: unknown }).JobsHealthIndicator,
      ).toBe('function');
      const { loadTerminusPackage } = require('./terminus-package') as typeof Loader;
      const { MissingDependencyError } = require('../errors') as typeof Errors;
      expect(() => loadTerminusPackage('JobsHealthIndicator')).toThrow(MissingDependencyError);
      expect(() => loadTerminusPackage('JobsHealthIndicator')).toThrow(
        'JobsHealthIndicator needs @nestjs/terminus, which is not installed: run `npm install @nestjs/terminus`',
      );
    });
  });
});
