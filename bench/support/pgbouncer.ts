/**
 * The PgBouncer of `npm run bench -- --pgbouncer`: one process in transaction pooling mode in front of the
 * benchmark server (test/support/pgbouncer.ts starts it), shared by every phase. The phases of a system
 * whose spec says `via: 'pgbouncer'` get their scratch database's URL through it (`viaPgBouncer`).
 */
import { PgBouncer, startPgBouncer } from '../../test/support/pgbouncer';
import { benchDatabaseUrl } from './database';

let bouncer: PgBouncer | undefined;

/** Starts the shared PgBouncer; unused server connections close after 1 s so that phases see their
 * backends exit (the commit count waits for that). */
export async function startBenchPgBouncer(): Promise<PgBouncer> {
  bouncer = await startPgBouncer(benchDatabaseUrl(), { poolSize: 20, serverIdleTimeoutS: 1 });
  return bouncer;
}

/** `url` through the shared PgBouncer; throws when `--pgbouncer` did not start one. */
export function viaPgBouncer(url: string): string {
  if (!bouncer) throw new Error('a PgBouncer variant needs --pgbouncer');
  return bouncer.urlOf(url);
}

export async function stopBenchPgBouncer(): Promise<void> {
  await bouncer?.stop();
  bouncer = undefined;
}
