/* eslint-disable @typescript-eslint/no-require-imports -- each test loads modules into a fresh registry */
import type * as Loader from './otel-package';

describe('loadOtelPackage', () => {
  afterEach(() => jest.dontMock('@opentelemetry/api'));

  it('loads @opentelemetry/api on first use, once; no SDK registered means no tracer or meter provider', () => {
    jest.isolateModules(() => {
      const { loadOtelPackage, hasTracerProvider, hasMeterProvider } =
        require('./otel-package') as typeof Loader;
      const api = loadOtelPackage();
      expect(typeof api?.trace.getTracer).toBe('function');
      expect(loadOtelPackage()).toBe(api);
      expect(hasTracerProvider(api!)).toBe(false);
      expect(hasMeterProvider(api!)).toBe(false);
    });
  });

  it('without @opentelemetry/api, the library loads and there is simply nothing to report to', () => {
    jest.isolateModules(() => {
      jest.doMock('@opentelemetry/api', () => {
        throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), {
          code: 'MODULE_NOT_FOUND',
        });
      });
      const { loadOtelPackage } = require('./otel-package') as typeof Loader;
      expect(loadOtelPackage()).toBeUndefined();
      // The whole package still loads (nothing requires the API eagerly).
      expect(typeof (require('../index') as { JobsModule: unknown }).JobsModule).toBe('function');
    });
  });

  it('rethrows any other load failure as it is', () => {
    jest.isolateModules(() => {
      jest.doMock('@opentelemetry/api', () => {
        throw new SyntaxError('broken install');
      });
      const { loadOtelPackage } = require('./otel-package') as typeof Loader;
      expect(() => loadOtelPackage()).toThrow(SyntaxError);
    });
  });
});
