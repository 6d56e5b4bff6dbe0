import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { ClsPluginTransactional, TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { IsInt } from 'class-validator';
import { ClsModule } from 'nestjs-cls';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  InvokedJob,
  Job,
  JobContext,
  JobHandler,
  JobInvoker,
  JobQueueService,
  JobsModule,
  JobWorker,
} from 'nestjs-tenant-jobs';
import { createTestDatabase, TestDatabase, withClient } from './support/database';
import { waitFor } from './support/wait-for';
import { createJobsApp } from './support/jobs-app';
import { waitForJobState } from './support/jobs';

class NumberPayload {
  @IsInt() n: number;
}

/** Records every perform, in order, per suite. */
@Injectable()
class Journal {
  readonly entries: Array<{ id: string; n: number; at: number }> = [];
}

@Job({ name: 'record', payload: NumberPayload, tenant: 'none' })
class RecordJob implements JobHandler<NumberPayload, number> {
  constructor(private readonly journal: Journal) {}
  perform({ n }: NumberPayload, ctx: JobContext): number {
    this.journal.entries.push({ id: ctx.id, n, at: Date.now() });
    return n * 2;
  }
}

describe('enqueue and perform', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let jobs: JobQueueService;
  let journal: Journal;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({ url: db.url, providers: [Journal, RecordJob] });
    jobs = app.get(JobQueueService);
    journal = app.get(Journal);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('never starts a delayed job before its run time, and reports it scheduled until then', async () => {
    const enqueuedAt = Date.now();
    const id = await jobs.performLater(RecordJob, { n: 1 }, { delayMs: 700 });
    expect((await jobs.find(id))?.state).toBe('scheduled');
    await waitForJobState(jobs, id, 'completed');
    const entry = journal.entries.find((e) => e.id === id);
    expect(entry!.at - enqueuedAt).toBeGreaterThanOrEqual(700);
  });

  it('honours an absolute runAt', async () => {
    const runAt = new Date(Date.now() + 400);
    const id = await jobs.performLater(RecordJob, { n: 2 }, { runAt });
    const job = await waitForJobState(jobs, id, 'completed');
    expect(job.runAt.getTime()).toBe(runAt.getTime());
    expect(job.startedAt!.getTime()).toBeGreaterThanOrEqual(runAt.getTime());
  });

  it('enqueues many jobs in one call and performs each', async () => {
    const ids = await jobs.performAllLater(RecordJob, [
      { payload: { n: 10 } },
      { payload: { n: 11 }, priority: 5 },
      { payload: { n: 12 } },
    ]);
    expect(ids).toHaveLength(3);
    expect(new Set(ids).size).toBe(3);
    for (const id of ids) await waitForJobState(jobs, id, 'completed');
    expect((await jobs.find(ids[1]))!.priority).toBe(5);
    expect((await jobs.find(ids[2]))!.result).toBe(24);
  });

  it('validates every payload of a bulk enqueue before writing any', async () => {
    const before = await jobs.countByState();
    await expect(
      jobs.performAllLater(RecordJob, [{ payload: { n: 1 } }, { payload: { n: 'two' } as never }]),
    ).rejects.toThrow(/Invalid payload for job "record": \[1\]\.n/);
    expect(await jobs.countByState()).toEqual(before);
  });

  it('performs a job now, in process, returning its result without writing a row', async () => {
    const before = await jobs.countByState();
    await expect(jobs.performNow(RecordJob, { n: 21 })).resolves.toBe(42);
    await expect(jobs.performNow(RecordJob, { n: 'x' } as never)).rejects.toThrow(
      /Invalid payload/,
    );
    expect(await jobs.countByState()).toEqual(before);
  });

  it('cancels a job that has not started, so it never runs', async () => {
    const id = await jobs.performLater(RecordJob, { n: 99 }, { delayMs: 300 });
    expect(await jobs.cancel(id)).toBe(true);
    const marker = await jobs.performLater(RecordJob, { n: 100 }, { delayMs: 400 });
    await waitForJobState(jobs, marker, 'completed');
    expect((await jobs.find(id))!.state).toBe('cancelled');
    expect(journal.entries.some((e) => e.id === id)).toBe(false);
    expect(await jobs.cancel(marker)).toBe(false);
    expect(await jobs.cancel('123456789')).toBe(false);
  });

  it('counts jobs by queue and state', async () => {
    const id = await jobs.performLater(RecordJob, { n: 5 }, { delayMs: 60_000, queue: 'later' });
    const counts = await jobs.countByState();
    expect(counts).toContainEqual({ queue: 'later', state: 'scheduled', count: 1, paused: false });
    expect(
      counts.find((c) => c.queue === 'default' && c.state === 'completed')!.count,
    ).toBeGreaterThan(0);
    await jobs.cancel(id);
  });

  it('returns null for an unknown job id', async () => {
    expect(await jobs.find('999999999')).toBeNull();
    expect(await jobs.find('not-a-number')).toBeNull();
  });

  it('fails a row whose job name has no handler, and keeps working', async () => {
    const ds = app.get(DataSource);
    const [{ id }] = await ds.query(
      `insert into jobs.jobs (name, payload) values ('gone.job', '{}') returning id::text as id`,
    );
    const failed = await waitForJobState(jobs, id, 'failed');
    expect(failed.lastError!.name).toBe('UnknownJobError');
    expect(failed.lastError!.message).toContain('"gone.job"');
    expect(failed.attempts).toBe(1);
    const next = await jobs.performLater(RecordJob, { n: 7 });
    await waitForJobState(jobs, next, 'completed');
  });

  it('fails a row whose stored payload no longer validates, without retrying it', async () => {
    const ds = app.get(DataSource);
    const [{ id }] = await ds.query(
      `insert into jobs.jobs (name, payload, max_attempts) values ('record', '{"n":"seven"}', 5) returning id::text as id`,
    );
    const failed = await waitForJobState(jobs, id, 'failed');
    expect(failed.lastError!.name).toBe('InvalidPayloadError');
    expect(failed.attempts).toBe(1);
  });
});

describe('priority and claim order', () => {
  let db: TestDatabase;
  let app: TestingModule;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      providers: [Journal, RecordJob],
      jobs: { worker: { enabled: false, concurrency: 1, prefetch: 0 } },
    });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('runs jobs by priority (lower first), then run time, then id', async () => {
    const jobs = app.get(JobQueueService);
    const ids = [
      await jobs.performLater(RecordJob, { n: 1 }, { priority: 5 }),
      await jobs.performLater(RecordJob, { n: 2 }, { priority: 0 }),
      await jobs.performLater(RecordJob, { n: 3 }, { priority: 5 }),
      await jobs.performLater(RecordJob, { n: 4 }, { priority: -1 }),
    ];
    expect((await jobs.find(ids[0]))!.state).toBe('available');
    await app.get(JobWorker).start();
    const journal = app.get(Journal);
    await waitFor(() => journal.entries.length === 4);
    expect(journal.entries.map((e) => e.n)).toEqual([4, 2, 1, 3]);
  });
});

describe('a large batch of jobs claimed at once', () => {
  let db: TestDatabase;
  let app: TestingModule;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      providers: [Journal, RecordJob],
      jobs: { worker: { enabled: false, concurrency: 10, prefetch: 1_000 } },
    });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('still runs in priority order within the batch', async () => {
    const jobs = app.get(JobQueueService);
    const journal = app.get(Journal);
    await jobs.performAllLater(RecordJob, [
      { payload: { n: 1 }, priority: 5 },
      { payload: { n: 2 }, priority: 0 },
      { payload: { n: 3 }, priority: 5 },
      { payload: { n: 4 }, priority: -1 },
    ]);
    // One slot at a time would hide the order of the batch; with ten, starts follow it.
    await app.get(JobWorker).start();
    await waitFor(() => journal.entries.length === 4);
    expect(journal.entries.map((e) => e.n)).toEqual([4, 2, 1, 3]);
    await app.get(JobWorker).stop();
  });

  it('of synchronous jobs lets the event loop turn between every 100 starts or so', async () => {
    const jobs = app.get(JobQueueService);
    const journal = app.get(Journal);
    journal.entries.length = 0;
    await jobs.performAllLater(
      RecordJob,
      Array.from({ length: 2_000 }, (_, n) => ({ payload: { n } })),
    );
    // Number the turns of the event loop; every job notes the turn it started in.
    let turn = 0;
    let counting = true;
    const count = () => {
      turn++;
      if (counting) setImmediate(count);
    };
    setImmediate(count);
    const turnOf = new Map<number, number>();
    const started = journal.entries.push.bind(journal.entries);
    journal.entries.push = (...entries) => {
      for (const e of entries) turnOf.set(e.n, turn);
      return started(...entries);
    };
    try {
      await app.get(JobWorker).start();
      await waitFor(() => journal.entries.length === 2_000);
    } finally {
      counting = false;
      await app.get(JobWorker).stop();
    }
    const perTurn = new Map<number, number>();
    for (const t of turnOf.values()) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
    // A claim returns up to 1,010 rows; without yielding they would all start in one turn. The worker
    // starts 100 per turn; a counted turn can hold two of its turns (an I/O callback and an immediate).
    expect(Math.max(...perTurn.values())).toBeLessThanOrEqual(200);
    expect(perTurn.size).toBeGreaterThanOrEqual(10);
  });
});

describe('transactional enqueue', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let jobs: JobQueueService;
  let journal: Journal;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      cls: false,
      providers: [Journal, RecordJob],
      imports: [
        ClsModule.forRoot({
          global: true,
          plugins: [
            new ClsPluginTransactional({
              imports: [TypeOrmModule],
              adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: getDataSourceToken() }),
            }),
          ],
        }),
      ],
    });
    jobs = app.get(JobQueueService);
    journal = app.get(Journal);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  const rowExists = async (id: string) => (await jobs.find(id)) !== null;

  it('with an EntityManager: invisible until commit, then performed', async () => {
    const ds = app.get(DataSource);
    let id = '';
    await ds.transaction(async (manager) => {
      id = await jobs.performLater(RecordJob, { n: 1 }, { manager });
      expect(await rowExists(id)).toBe(false); // other connections cannot see it yet
    });
    await waitForJobState(jobs, id, 'completed');
  });

  it('with an EntityManager: gone on rollback', async () => {
    const ds = app.get(DataSource);
    let id = '';
    await expect(
      ds.transaction(async (manager) => {
        id = await jobs.performLater(RecordJob, { n: 2 }, { manager });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(id).not.toBe('');
    expect(await rowExists(id)).toBe(false);
  });

  it('joins the active @nestjs-cls/transactional transaction automatically', async () => {
    const txHost = app.get(TransactionHost);
    let committed = '';
    await txHost.withTransaction(async () => {
      committed = await jobs.performLater(RecordJob, { n: 3 });
      expect(await rowExists(committed)).toBe(false);
    });
    await waitForJobState(jobs, committed, 'completed');

    let rolledBack = '';
    await expect(
      txHost.withTransaction(async () => {
        rolledBack = await jobs.performLater(RecordJob, { n: 4 });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    expect(await rowExists(rolledBack)).toBe(false);
    expect(journal.entries.some((e) => e.id === rolledBack)).toBe(false);
  });
});

@Job({ name: 'slow', payload: NumberPayload, tenant: 'none' })
class SlowJob implements JobHandler<NumberPayload> {
  static started = new Set<number>();
  /** Ends every job still waiting on it (stubborn ones ignore their signal). */
  static readonly hold = new AbortController();
  async perform({ n }: NumberPayload, ctx: JobContext): Promise<void> {
    SlowJob.started.add(n);
    // n ms of work that honours the signal only when n is even
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(resolve, n);
      SlowJob.hold.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()));
      if (n % 2 === 0)
        ctx.signal.addEventListener(
          'abort',
          () => (clearTimeout(timer), reject(ctx.signal.reason)),
        );
    });
  }
}

describe('graceful shutdown', () => {
  let db: TestDatabase;

  beforeAll(async () => (db = await createTestDatabase()));
  afterAll(async () => {
    SlowJob.hold.abort();
    await db?.drop();
  });

  const states = async () => {
    const { rows } = await withClient(db.url, (c) =>
      c.query<{ state: string; count: string }>(
        `select state, count(*) from jobs.jobs group by state`,
      ),
    );
    return Object.fromEntries(rows.map((r) => [r.state, Number(r.count)]));
  };

  it('lets a running job finish within the grace period and leaves nothing running', async () => {
    const app = await createJobsApp({
      url: db.url,
      providers: [SlowJob],
      jobs: { worker: { shutdownTimeoutMs: 5_000 } },
    });
    const jobs = app.get(JobQueueService);
    const id = await jobs.performLater(SlowJob, { n: 301 });
    await waitFor(() => SlowJob.started.has(301));
    await app.close();
    expect(await states()).toEqual({ completed: 1 });
    expect((await states()).running).toBeUndefined();
    expect(id).toMatch(/^\d+$/);
  });

  it('aborts jobs still running after the grace period and returns them to the queue', async () => {
    const app = await createJobsApp({
      url: db.url,
      providers: [SlowJob],
      jobs: { worker: { shutdownTimeoutMs: 100, concurrency: 2 } },
    });
    const jobs = app.get(JobQueueService);
    const stubborn = await jobs.performLater(SlowJob, { n: 5_001 }); // ignores its signal
    const polite = await jobs.performLater(SlowJob, { n: 5_000 }); // honours it
    await waitFor(() => SlowJob.started.has(5_001) && SlowJob.started.has(5_000));
    await app.close();
    for (const id of [stubborn, polite]) {
      const { rows } = await withClient(db.url, (c) =>
        c.query(`select state, attempts, locked_by from jobs.jobs where id = $1`, [id]),
      );
      expect(rows[0]).toEqual({ state: 'available', attempts: 0, locked_by: null });
    }
  });
});

describe('two workers on one database', () => {
  let db: TestDatabase;
  const apps: TestingModule[] = [];

  beforeAll(async () => (db = await createTestDatabase()));
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    await db?.drop();
  });

  it('never run the same job twice (1,000 jobs)', async () => {
    const executions = new Map<string, number>();
    @Job({ name: 'count', payload: NumberPayload, tenant: 'none' })
    class CountJob implements JobHandler<NumberPayload> {
      async perform(_: NumberPayload, ctx: JobContext) {
        executions.set(ctx.id, (executions.get(ctx.id) ?? 0) + 1);
        await new Promise((r) => setImmediate(r));
      }
    }
    // Two independent apps (separate pools and worker ids), as two processes would be.
    const enqueuer = await createJobsApp({
      url: db.url,
      providers: [CountJob],
      jobs: { worker: { enabled: false } },
    });
    apps.push(enqueuer);
    const ids = await enqueuer.get(JobQueueService).performAllLater(
      CountJob,
      Array.from({ length: 1_000 }, (_, n) => ({ payload: { n } })),
    );
    for (let i = 0; i < 2; i++) {
      apps.push(
        await createJobsApp({
          url: db.url,
          providers: [CountJob],
          jobs: { worker: { concurrency: 8 } },
        }),
      );
    }
    const ds = enqueuer.get(DataSource);
    await waitFor(
      async () =>
        (await ds.query(`select 1 from jobs.jobs where state <> 'completed'`)).length === 0,
      { timeoutMs: 30_000 },
    );
    expect(executions.size).toBe(1_000);
    expect([...executions.entries()].filter(([, n]) => n !== 1)).toEqual([]);
    expect(new Set(ids).size).toBe(1_000);
    const workers: Array<{ id: string }> = await ds.query(`select id from jobs.workers`);
    expect(workers).toHaveLength(2);
  });
});

describe("the worker's query plans", () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await db?.drop();
  });

  /** Sequential scans of jobs, and scans of its indexes other than the ones the worker should use. */
  async function scans(): Promise<{ seq: number; byIndex: Record<string, number> }> {
    return withClient(db.url, async (c) => {
      const table = await c.query<{ seq: string }>(
        `select seq_scan as seq from pg_stat_user_tables where schemaname = 'jobs' and relname = 'jobs'`,
      );
      const indexes = await c.query<{ name: string; scans: string }>(
        `select indexrelname as name, idx_scan as scans from pg_stat_user_indexes
         where schemaname = 'jobs' and relname = 'jobs'`,
      );
      return {
        seq: Number(table.rows[0].seq),
        byIndex: Object.fromEntries(indexes.rows.map((r) => [r.name, Number(r.scans)])),
      };
    });
  }

  it('find batches by their ids even when statistics say almost nothing is running', async () => {
    const producer = await createJobsApp({
      url: db.url,
      providers: [Journal, RecordJob],
      jobs: { worker: { enabled: false } },
    });
    const ids = await producer.get(JobQueueService).performAllLater(
      RecordJob,
      Array.from({ length: 3_000 }, (_, n) => ({ payload: { n } })),
    );
    await producer.close();
    // Statistics taken now say every job is available: the situation in which a plan made for a
    // batch's real size preferred scanning the table (or an index over all of it) to find the batch.
    await withClient(db.url, (c) => c.query('analyze jobs.jobs'));
    const before = await scans();

    const worker = await createJobsApp({
      url: db.url,
      providers: [Journal, RecordJob],
      jobs: { worker: { concurrency: 10, prefetch: 500 } },
    });
    try {
      await waitFor(() => worker.get(Journal).entries.length === 3_000);
      await waitForJobState(worker.get(JobQueueService), ids[2_999], 'completed');
    } finally {
      await worker.close(); // closing its connections publishes their statistics
    }
    const after = await scans();
    expect(after.seq - before.seq).toBe(0);
    expect(after.byIndex.jobs_failed_account_idx - before.byIndex.jobs_failed_account_idx).toBe(0);
    expect(after.byIndex.jobs_pkey - before.byIndex.jobs_pkey).toBeGreaterThan(0);
  });
});

describe('adaptive prefetch with slow jobs', () => {
  let db: TestDatabase;
  const apps: TestingModule[] = [];

  @Job({ name: 'slow', payload: NumberPayload, tenant: 'none' })
  class SlowJob implements JobHandler<NumberPayload> {
    constructor(private readonly journal: Journal) {}
    async perform({ n }: NumberPayload, ctx: JobContext): Promise<void> {
      await new Promise((resolve) => setTimeout(resolve, 150));
      this.journal.entries.push({ id: ctx.id, n, at: Date.now() });
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    for (let i = 0; i < 2; i++)
      apps.push(
        await createJobsApp({
          url: db.url,
          providers: [Journal, SlowJob],
          jobs: { worker: { concurrency: 2 } },
        }),
      );
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await db?.drop();
  });

  it('does not let one worker hoard slow jobs that another could start', async () => {
    await apps[0].get(JobQueueService).performAllLater(
      SlowJob,
      Array.from({ length: 16 }, (_, n) => ({ payload: { n } })),
    );
    const done = () => apps.map((app) => app.get(Journal).entries.length);
    await waitFor(() => done()[0] + done()[1] === 16);
    // Either worker alone would take 8 × 150 ms; each got a fair share instead of one claiming them all.
    expect(Math.min(...done())).toBeGreaterThanOrEqual(5);
  });
});

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

describe('cancelling a job that waits in the local buffer', () => {
  let db: TestDatabase;
  let app: TestingModule;
  const performed: number[] = [];
  const first = gate();

  @Job({ name: 'gated', payload: NumberPayload, tenant: 'none' })
  class GatedJob implements JobHandler<NumberPayload> {
    async perform({ n }: NumberPayload): Promise<void> {
      performed.push(n);
      if (n === 1) await first.opened;
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    // One slot and a buffer of one: job 2 is claimed (its row `running`) while job 1 holds the slot.
    app = await createJobsApp({
      url: db.url,
      providers: [GatedJob],
      jobs: { worker: { concurrency: 1, prefetch: 1 } },
    });
  });

  afterAll(async () => {
    first.open();
    await app?.close();
    await db?.drop();
  });

  it('never performs it, and frees its place in the buffer', async () => {
    const jobs = app.get(JobQueueService);
    const [, second] = await jobs.performAllLater(GatedJob, [
      { payload: { n: 1 } },
      { payload: { n: 2 } },
    ]);
    await waitFor(() => performed.includes(1));
    await waitForJobState(jobs, second, 'running'); // claimed into the buffer
    expect(await jobs.cancel(second)).toBe(true);
    // Its place is free again: a third job is claimed while the first still holds the only slot.
    const third = await jobs.performLater(GatedJob, { n: 3 });
    await waitForJobState(jobs, third, 'running');
    first.open();
    await waitForJobState(jobs, third, 'completed');
    expect(performed).toEqual([1, 3]);
    expect(await jobs.find(second)).toMatchObject({ state: 'cancelled', errors: [] });
  });
});

describe('a lock on the workers table held longer than a lease', () => {
  let db: TestDatabase;
  let app: TestingModule;
  const runs = new Map<string, number>();
  const unlocked = gate();

  @Job({ name: 'long', payload: NumberPayload, tenant: 'none' })
  class LongJob implements JobHandler<NumberPayload> {
    async perform(_: NumberPayload, ctx: JobContext): Promise<void> {
      runs.set(ctx.id, (runs.get(ctx.id) ?? 0) + 1);
      await unlocked.opened; // runs through the whole lock
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      providers: [LongJob],
      jobs: {
        worker: { concurrency: 6, leaseMs: 1_000, heartbeatIntervalMs: 200, rescueIntervalMs: 200 },
      },
    });
  });

  afterAll(async () => {
    unlocked.open();
    await app?.close();
    await db?.drop();
  });

  it('costs running jobs nothing: leases are kept, none runs twice', async () => {
    const jobs = app.get(JobQueueService);
    const ids = await jobs.performAllLater(
      LongJob,
      Array.from({ length: 3 }, (_, n) => ({ payload: { n } })),
    );
    await waitFor(() => runs.size === 3);
    // An operator's (or a migration's) exclusive lock on jobs.workers: 2.5 leases long.
    await withClient(db.url, async (c) => {
      await c.query('begin');
      await c.query('lock table jobs.workers in access exclusive mode');
      await c.query('select pg_sleep(2.5)');
      await c.query('commit');
    });
    unlocked.open();
    for (const id of ids) {
      const job = await waitForJobState(jobs, id, 'completed');
      expect(job).toMatchObject({ attempts: 1, errors: [] });
    }
    expect([...runs.values()]).toEqual([1, 1, 1]);
  }, 20_000);
});

describe('the handler-wrapping hook (JobInvoker)', () => {
  let db: TestDatabase;
  const calls: string[] = [];

  class TracingInvoker extends JobInvoker {
    override async invoke(definition: InvokedJob, payload: unknown, ctx: JobContext) {
      calls.push(`${definition.name}:${ctx.attempt}`);
      return super.invoke(definition, payload, ctx);
    }
  }

  beforeAll(async () => (db = await createTestDatabase()));
  afterAll(async () => db?.drop());
  beforeEach(() => (calls.length = 0));

  it('wraps every perform, worker and performNow alike, when given as the invoker option', async () => {
    const app = await createJobsApp({
      url: db.url,
      providers: [Journal, RecordJob],
      jobs: { invoker: TracingInvoker },
    });
    try {
      const jobs = app.get(JobQueueService);
      const id = await jobs.performLater(RecordJob, { n: 4 });
      expect((await waitForJobState(jobs, id, 'completed')).result).toBe(8);
      await expect(jobs.performNow(RecordJob, { n: 5 })).resolves.toBe(10);
      expect(calls).toEqual(['record:1', 'record:1']);
    } finally {
      await app.close();
    }
  });

  it('can be replaced in a test with overrideProvider(JobInvoker)', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ClsModule.forRoot({ global: true }),
        TypeOrmModule.forRoot({ type: 'postgres', url: db.url, extra: { max: 10 } }),
        JobsModule.forRoot({ runMigrations: true, worker: { pollIntervalMs: 100 } }),
      ],
      providers: [Journal, RecordJob],
    })
      .overrideProvider(JobInvoker)
      .useClass(TracingInvoker)
      .compile();
    moduleRef.enableShutdownHooks();
    await moduleRef.init();
    try {
      const jobs = moduleRef.get(JobQueueService);
      const id = await jobs.performLater(RecordJob, { n: 6 });
      await waitForJobState(jobs, id, 'completed');
      expect(calls).toEqual(['record:1']);
    } finally {
      await moduleRef.close();
    }
  });
});

describe('shutdown while the database blocks (issue 13, finding 7)', () => {
  /** `SHUTDOWN_MARGIN_MS` of the worker: how long stop may wait for the database after the grace period. */
  const MARGIN_MS = 5_000;
  const GRACE_MS = 2_000;
  /**
   * Until the pools have statement and lock timeouts of their own, the app sets one on the worker's
   * connections, as a user would today: a statement waits at most this long for the lock.
   */
  const LOCK_TIMEOUT_MS = 3_000;
  let db: TestDatabase;
  const started: string[] = [];
  let long = true;

  @Job({ name: 'blocked.long', tenant: 'none' })
  class LongJob implements JobHandler<{ n: number }> {
    async perform(_payload: { n: number }, ctx: JobContext): Promise<void> {
      started.push(ctx.id);
      if (!long) return;
      // Runs until its signal aborts it (shutdown's grace period ends) or 30 s pass.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 30_000);
        ctx.signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), {
          once: true,
        });
      });
    }
  }

  beforeAll(async () => (db = await createTestDatabase()));
  afterAll(async () => db?.drop());

  it(`app.close() returns within shutdownTimeoutMs + ${MARGIN_MS} ms with jobs.jobs locked, leaving held jobs to lease rescue`, async () => {
    const app = await createJobsApp({
      url: db.url,
      providers: [LongJob],
      jobs: {
        connection: { connectionString: db.url, lock_timeout: LOCK_TIMEOUT_MS },
        worker: {
          concurrency: 2,
          prefetch: 2,
          shutdownTimeoutMs: GRACE_MS,
          leaseMs: 2_000,
          heartbeatIntervalMs: 200,
        },
      },
    });
    const jobs = app.get(JobQueueService);
    const ids = await jobs.performAllLater(
      LongJob,
      Array.from({ length: 6 }, (_, n) => ({ payload: { n } })),
    );
    // Two running, two in the buffer.
    await waitFor(() => started.length === 2, { message: 'two jobs started' });
    const lock = new Client({ connectionString: db.url });
    await lock.connect();
    let elapsed: number;
    try {
      await lock.query('begin');
      await lock.query('lock table jobs.jobs in access exclusive mode');
      const t0 = Date.now();
      await app.close();
      elapsed = Date.now() - t0;
    } finally {
      await lock.query('rollback').catch(() => undefined);
      await lock.end();
    }
    console.log(`[shutdown] app.close() with jobs.jobs locked took ${elapsed} ms`);
    expect(elapsed).toBeLessThan(GRACE_MS + MARGIN_MS);
    long = false;

    // What it could not give back is rescued once its lease runs out, and every job completes.
    const rescuer = await createJobsApp({
      url: db.url,
      providers: [LongJob],
      jobs: { worker: { concurrency: 6, rescueIntervalMs: 200 } },
    });
    try {
      for (const id of ids)
        await waitForJobState(rescuer.get(JobQueueService), id, 'completed', { timeoutMs: 40_000 });
    } finally {
      await rescuer.close();
    }
  }, 60_000);
});
