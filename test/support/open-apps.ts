/**
 * Every Nest application an e2e suite starts is registered here until it is closed, so the leak check
 * (`leak-check.environment.js`) can fail a suite that leaves one open: an open app is a worker still
 * claiming, timers still firing and pools still connected, which would bleed into the next suite.
 */

/** What can be closed: a TestingModule or an INestApplication. */
interface Closable {
  close(): Promise<void>;
}

/** Shared with the test environment through the suite's global object. */
export const OPEN_APPS_KEY = '__JOBS_E2E_OPEN_APPS__';

type GlobalWithApps = typeof globalThis & { [OPEN_APPS_KEY]?: Map<Closable, string> };

function openApps(): Map<Closable, string> {
  const g = globalThis as GlobalWithApps;
  return (g[OPEN_APPS_KEY] ??= new Map());
}

/**
 * Registers `app` as open, named by `label` (shown by the leak check), and makes its `close()` unregister
 * it. Returns `app`.
 */
export function trackApp<T extends Closable>(app: T, label: string): T {
  const apps = openApps();
  const close = app.close.bind(app);
  app.close = async () => {
    try {
      await close();
    } finally {
      apps.delete(app);
    }
  };
  apps.set(app, label);
  return app;
}
