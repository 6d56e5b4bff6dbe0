/**
 * The SQL-only ceiling: what PostgreSQL alone does here when 2 clients claim-and-delete 100 rows per
 * transaction (`for update skip locked`) from a pre-filled table, with pgbench. Rows/s = tps × 100, checked
 * against the rows actually deleted.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';
import { createScratchDatabase, withClient } from './support/database';

const run = promisify(execFile);

const BATCH = 100;
const CLIENTS = 2;
/** Prefilled rows per 1 s of run time: comfortably more than PostgreSQL deletes here. */
const ROWS_PER_SECOND_OF_RUN = 200_000;

const SCRIPT = `with c as (select id from t order by id limit ${BATCH} for update skip locked)
delete from t using c where t.id = c.id;
`;

export interface CeilingResult {
  rowsPerSec: number;
  tps: number;
  rowsDeleted: number;
  seconds: number;
}

export function findPgbench(): string | null {
  const candidates = [
    process.env.BENCH_PGBENCH,
    '/usr/lib/postgresql/15/bin/pgbench',
    ...(process.env.PATH ?? '').split(':').map((dir) => join(dir, 'pgbench')),
  ];
  return candidates.find((p): p is string => !!p && existsSync(p)) ?? null;
}

export async function measureCeiling(
  pgbench: string,
  name: string,
  seconds: number,
  workDir: string,
): Promise<CeilingResult> {
  const db = await createScratchDatabase(name);
  try {
    const before = await withClient(db.url, async (client) => {
      await client.query(
        `create table t (id bigint generated always as identity primary key,
                         payload jsonb not null default '{}')`,
      );
      await client.query(
        `insert into t (payload) select jsonb_build_object('n', g)
         from generate_series(1, $1::int) g`,
        [ROWS_PER_SECOND_OF_RUN * seconds],
      );
      await client.query('vacuum analyze t');
      return count(client);
    });

    mkdirSync(workDir, { recursive: true });
    const script = join(workDir, 'claim-delete.sql');
    writeFileSync(script, SCRIPT);
    const { stdout } = await run(pgbench, [
      '-n',
      '-M',
      'prepared',
      '-c',
      String(CLIENTS),
      '-j',
      String(CLIENTS),
      '-T',
      String(seconds),
      '-f',
      script,
      db.url,
    ]);
    const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1]);
    if (!Number.isFinite(tps))
      throw new Error(`Could not read tps from pgbench output:\n${stdout}`);

    const after = await withClient(db.url, count);
    if (after === 0) throw new Error('pgbench emptied the table: raise ROWS_PER_SECOND_OF_RUN');
    return { rowsPerSec: tps * BATCH, tps, rowsDeleted: before - after, seconds };
  } finally {
    await db.drop();
  }
}

async function count(client: Client): Promise<number> {
  const { rows } = await client.query<{ n: string }>('select count(*)::text as n from t');
  return Number(rows[0].n);
}
