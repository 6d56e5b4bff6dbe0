/**
 * The library through a real PgBouncer in transaction pooling mode (Debian's `pgbouncer`, started by the
 * suite in front of the test server): the app's DataSource and the library's pools connect to PgBouncer
 * with `database: { pooler: 'transaction' }`, and the worker either LISTENs on a direct connection
 * (`listen`) or polls. Each mode proves: enqueues (bulk and many concurrent single ones) and the worker
 * draining them, an enqueue inside a TypeORM transaction committing and rolling back with it, recurring
 * ticks enqueued once per tick across two replicas, and worker processes SIGKILLed mid-drain with no job
 * lost or run twice. PgBouncer hands its 20 server connections to far more clients than that, so a
 * session setting or a named prepared statement would leak between them and fail.
 */
import { ScheduleModule } from '@nestjs/schedule';
import { TestingModule } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IsInt } from 'class-validator';
import { Pool } from 'pg';
import { DataSource } from 'typeorm';
import {
  Job,
  JobContext,
  JobHandler,
  JobQueueService,
  JobsHealthIndicator,
  JobsModuleOptions,
  JobWorker,
  Recurring,
} from 'nestjs-tenant-jobs';
import {
  CHAOS_EFFECT_JOB,
  CHAOS_MAX_HELD,
  CHAOS_TABLES_SQL,
  ChaosEffectJob,
  ChaosPoisonJob,
} from './chaos/chaos-jobs';
import { buildWorker, WorkerCommand, WorkerPool } from './chaos/worker-pool';
import { createTestDatabase, TestDatabase } from './support/database';
import { DATA_ROOT } from './support/embedded-postgres';
import { createJobsApp } from './support/jobs-app';
import { PgBouncer, startPgBouncer } from './support/pgbouncer';
import { waitFor } from './support/wait-for';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

class CountPayload {
  @IsInt() n: number;
}

/** How often each job id was performed, across every app of a test. */
const performed = new Map<string, number>();

@Job({ name: 'bouncer.count', payload: CountPayload, tenant: 'none' })
class CountJob implements JobHandler<CountPayload> {
  perform(_payload: CountPayload, ctx: JobContext): void {
    performed.set(ctx.id, (performed.get(ctx.id) ?? 0) + 1);
  }
}

@Recurring({ cron: '* * * * * *', key: 'bouncer-every-second', payload: {} })
@Job({ name: 'bouncer.tick', tenant: 'none' })
class TickJob implements JobHandler<Record<string, never>> {
  perform(): void {}
}

let bouncer: PgBouncer;
const databases: TestDatabase[] = [];
const apps: TestingModule[] = [];

beforeAll(async () => {
  bouncer = await startPgBouncer(process.env.DATABASE_URL as string);
});

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await bouncer?.stop();
  await Promise.all(databases.map((db) => db.drop()));
});

async function database(): Promise<TestDatabase> {
  const db = await createTestDatabase();
  databases.push(db);
  return db;
}

/** The library options of a mode: through PgBouncer, with LISTEN on the direct URL or none. */
function bounced(db: TestDatabase, listen: boolean): JobsModuleOptions {
  return { database: { pooler: 'transaction' }, ...(listen ? { listen: db.url } : {}) };
}

/** An app whose DataSource and library pools connect to PgBouncer. */
async function bouncedApp(
  db: TestDatabase,
  listen: boolean,
  jobs: JobsModuleOptions = {},
  extra: { schedule?: boolean } = {},
): Promise<TestingModule> {
  const app = await createJobsApp({
    url: bouncer.urlOf(db.url),
    providers: [CountJob, ...(extra.schedule ? [TickJob] : [])],
    imports: extra.schedule ? [ScheduleModule.forRoot()] : [],
    jobs: { ...bounced(db, listen), ...jobs },
  });
  apps.push(app);
  return app;
}

async function close(app: TestingModule): Promise<void> {
  apps.splice(apps.indexOf(app), 1);
  await app.close();
}

it('refuses to start through PgBouncer without `database.pooler`: PgBouncer rejects the session settings', async () => {
  const db = await database();
  await expect(
    createJobsApp({ url: bouncer.urlOf(db.url), providers: [CountJob] }),
  ).rejects.toThrow(/unsupported startup parameter: options/);
});

describe.each([
  { mode: 'LISTEN on a direct connection', listen: true },
  { mode: 'poll-only (no listen connection)', listen: false },
])('through PgBouncer in transaction mode, $mode', ({ listen }) => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await database();
  });

  beforeEach(() => performed.clear());

  it('enqueues in bulk and 200 concurrent single calls, and the worker performs each job once', async () => {
    const app = await bouncedApp(db, listen, { worker: { concurrency: 10 } });
    try {
      expect(app.get(JobWorker).listening).toBe(listen);
      const health = await app.get(JobsHealthIndicator).isHealthy();
      expect(health.jobs).toMatchObject({
        status: 'up',
        database: 'up',
        listen: listen ? 'connected' : 'off (polling)',
      });
      const jobs = app.get(JobQueueService);
      const bulk = await jobs.performAllLater(
        CountJob,
        Array.from({ length: 1_000 }, (_, n) => ({ payload: { n } })),
      );
      const singles = await Promise.all(
        Array.from({ length: 200 }, (_, n) => jobs.performLater(CountJob, { n })),
      );
      const ids = [...bulk, ...singles];
      expect(new Set(ids).size).toBe(1_200);
      await waitFor(() => ids.every((id) => performed.has(id)), {
        timeoutMs: 30_000,
        message: 'every job performed',
      });
      const ds = app.get(DataSource);
      await waitFor(
        async () =>
          (await ds.query(`select count(*)::int as n from jobs.jobs where state = 'completed'`))[0]
            .n === 1_200,
        { message: 'every completion recorded', timeoutMs: 15_000 },
      );
      expect([...performed.values()].every((count) => count === 1)).toBe(true);
    } finally {
      await close(app);
    }
  }, 60_000);

  it('an enqueue inside a TypeORM transaction commits with it and vanishes with its rollback', async () => {
    const app = await bouncedApp(db, listen);
    try {
      const jobs = app.get(JobQueueService);
      const ds = app.get(DataSource);
      const committed = await ds.transaction((manager) =>
        jobs.performLater(CountJob, { n: 1 }, { manager }),
      );
      let rolledBack: string | undefined;
      await expect(
        ds.transaction(async (manager) => {
          rolledBack = await jobs.performLater(CountJob, { n: 2 }, { manager });
          throw new Error('the order failed');
        }),
      ).rejects.toThrow('the order failed');
      await waitFor(() => performed.has(committed), { message: 'the committed job performed' });
      expect(await jobs.find(rolledBack as string)).toBeNull();
      expect(performed.has(rolledBack as string)).toBe(false);
    } finally {
      await close(app);
    }
  });

  it('two replicas ticking one schedule enqueue one job per tick', async () => {
    const tickDb = await database();
    const replicas = [
      await bouncedApp(tickDb, listen, { worker: { enabled: false } }, { schedule: true }),
      await bouncedApp(tickDb, listen, { worker: { enabled: false } }, { schedule: true }),
    ];
    try {
      const ds = replicas[0].get(DataSource);
      const ticks = async () =>
        (await ds.query(
          `select r.fire_time, count(j.id)::int as jobs
           from jobs.recurring_executions r left join jobs.jobs j on j.id = any(r.job_ids)
           where r.schedule_key = 'bouncer-every-second' group by r.fire_time`,
        )) as Array<{ jobs: number }>;
      await waitFor(async () => (await ticks()).length >= 3, {
        timeoutMs: 15_000,
        message: 'three ticks',
      });
      const seen = await ticks();
      expect(seen.every((t) => t.jobs === 1)).toBe(true);
      const [{ count }] = await ds.query(
        `select count(*)::int as count from jobs.jobs where name = 'bouncer.tick'`,
      );
      expect(count).toBe((await ticks()).length);
    } finally {
      await Promise.all(replicas.map(close));
    }
  });

  describe('worker processes SIGKILLed mid-drain', () => {
    const JOBS = 4_000;
    const PROCESSES = 3;
    const buildDir = join(
      DATA_ROOT,
      `bouncer-build-${process.pid}-${randomBytes(4).toString('hex')}`,
    );
    const logDir = mkdtempSync(join(tmpdir(), 'jobs-bouncer-chaos-'));
    let command: WorkerCommand;
    let workers: WorkerPool | undefined;
    let monitor: Pool | undefined;

    beforeAll(() => {
      command = buildWorker(buildDir);
    });

    afterAll(async () => {
      await workers?.destroy();
      await monitor?.end();
      rmSync(buildDir, { recursive: true, force: true });
      rmSync(logDir, { recursive: true, force: true });
    });

    it(`${PROCESSES} processes drain ${JOBS} jobs through PgBouncer while one is killed every 1–2 s; none lost or applied twice`, async () => {
      const chaosDb = await database();
      // Runs the migrations and enqueues; the worker processes perform.
      const enqueuer = await createJobsApp({
        url: bouncer.urlOf(chaosDb.url),
        providers: [ChaosEffectJob, ChaosPoisonJob],
        jobs: { ...bounced(chaosDb, listen), worker: { enabled: false }, retention: false },
      });
      apps.push(enqueuer);
      monitor = new Pool({ connectionString: chaosDb.url, max: 2 });
      monitor.on('error', () => undefined);
      await monitor.query(CHAOS_TABLES_SQL);
      workers = new WorkerPool({
        url: bouncer.urlOf(chaosDb.url),
        size: PROCESSES,
        logFile: join(logDir, 'workers.log'),
        command,
        env: {
          CHAOS_POOLER: 'transaction',
          ...(listen ? { CHAOS_LISTEN_URL: chaosDb.url } : {}),
        },
      });
      await workers.start();
      const jobs = enqueuer.get(JobQueueService);
      for (let start = 0; start < JOBS; start += 500) {
        await jobs.performAllLater(
          ChaosEffectJob,
          Array.from({ length: 500 }, (_, i) => ({ payload: { n: start + i } })),
        );
      }
      const completed = async () =>
        (
          await monitor!.query<{ n: number }>(
            `select count(*)::int as n from jobs.jobs where name = $1 and state = 'completed'`,
            [CHAOS_EFFECT_JOB],
          )
        ).rows[0].n;
      let kills = 0;
      let stop = false;
      const chaos = (async () => {
        while (!stop) {
          await sleep(1_000 + Math.random() * 1_000);
          if (stop || (await completed()) >= JOBS * 0.95) break;
          const ready = workers!.readyPids();
          if (ready.length === 0) continue;
          await workers!.kill(ready[Math.floor(Math.random() * ready.length)]);
          kills++;
        }
      })();
      try {
        await waitFor(async () => (await completed()) >= JOBS, {
          timeoutMs: 120_000,
          intervalMs: 200,
          message: `${JOBS} jobs completed`,
        });
      } finally {
        stop = true;
        await chaos;
      }
      await workers.allReady(); // a worker restarted after the last kill finishes starting first
      const exits = await workers.stop();
      expect(exits.map((e) => ({ code: e.code, signal: e.signal }))).toEqual(
        exits.map(() => ({ code: 0, signal: null })),
      );
      const {
        rows: [o],
      } = await monitor.query<Record<string, number>>(
        `with x as (select job_id, count(*)::int as n from chaos_executions group by job_id)
         select
           (select count(*)::int from jobs.jobs where state = 'completed') as completed,
           (select count(*)::int from jobs.jobs where state = 'running') as running,
           (select count(*)::int from jobs.jobs j
              where not exists (select 1 from chaos_effects e where e.job_id = j.id)) as lost,
           (select count(*)::int from chaos_effects) as effects,
           (select count(*)::int from chaos_executions where outcome = 'applied') as applied,
           (select coalesce(sum(x.n), 0)::int from x) as executions,
           (select count(*)::int from x join jobs.jobs j on j.id = x.job_id
              where x.n > 1 + jsonb_array_length(j.errors)) as unexplained`,
      );
      console.log(
        `[pgbouncer chaos, ${listen ? 'listen' : 'poll-only'}] jobs=${JOBS} kills=${kills} ` +
          `re-executions=${o.executions - JOBS} lost=${o.lost}`,
      );
      expect(o).toMatchObject({
        completed: JOBS,
        running: 0,
        lost: 0,
        effects: JOBS,
        applied: JOBS,
        unexplained: 0,
      });
      expect(kills).toBeGreaterThanOrEqual(2);
      expect(o.executions - JOBS).toBeLessThanOrEqual(kills * CHAOS_MAX_HELD);
      expect(workers.exits.filter((e) => !e.expected)).toEqual([]);
      await close(enqueuer);
    }, 180_000);
  });
});
