/**
 * Jest globalTeardown for the e2e project: stops the embedded PostgreSQL started by
 * global-setup.ts (if any) and removes its data dir. Does nothing for an external DATABASE_URL.
 */
import { HANDLE_KEY, globalWithHandle } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const handle = globalWithHandle[HANDLE_KEY];
  if (!handle) return;
  delete globalWithHandle[HANDLE_KEY];
  try {
    await handle.destroy();
  } finally {
    // Setup exported this URL; forget it so a re-run in the same process (watch mode) starts a
    // new server instead of pointing at the one just stopped.
    if (process.env.DATABASE_URL === handle.url) delete process.env.DATABASE_URL;
  }
}
