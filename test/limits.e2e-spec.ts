/**
 * Concurrency and rate limits (issue 14, items 2 and 3), enforced in PostgreSQL across several worker
 * apps on one database. The apps of a test share this jest process, so the handlers count what runs at
 * once per key in memory: the maximum any key reached is what a user would see as "at most N at once".
 * Worker processes killed mid-drain: test/limits-crash.e2e-spec.ts.
 */
import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { Pool } from 'pg';
import {
  InvalidEnqueueOptionsError,
  Job,
  JobContext,
  JobHandler,
  JobQueueService,
  JobsModuleOptions,
} from 'nestjs-tenant-jobs';
import { createTestDatabase, TestDatabase } from './support/database';
import { createJobsApp } from './support/jobs-app';
import { waitFor } from './support/wait-for';

interface KeyedPayload {
  key: string;
  n: number;
}

/** What runs at once, per key, in every app of a test; and every start in order. */
const running = new Map<string, number>();
const maxRunning = new Map<string, number>();
const started: Array<{ job: string; key: string; at: number }> = [];

async function holdSlot(job: string, key: string, ms: number): Promise<void> {
  const now = (running.get(key) ?? 0) + 1;
  running.set(key, now);
  maxRunning.set(key, Math.max(maxRunning.get(key) ?? 0, now));
  started.push({ job, key, at: Date.now() });
  try {
    await new Promise((resolve) => setTimeout(resolve, ms));
  } finally {
    running.set(key, (running.get(key) ?? 1) - 1);
  }
}

/** At most 2 at once per `key` of the payload. */
@Injectable()
@Job({
  name: 'limits.keyed',
  tenant: 'none',
  concurrency: { limit: 2, key: (p: KeyedPayload) => p.key },
})
class KeyedJob implements JobHandler<KeyedPayload> {
  perform(p: KeyedPayload): Promise<void> {
    return holdSlot('keyed', `keyed:${p.key}`, 15);
  }
}

/** At most 1 at once, whatever the payload (no key: one key for the job). */
@Injectable()
@Job({ name: 'limits.single', tenant: 'none', concurrency: { limit: 1 } })
class SingleJob implements JobHandler<KeyedPayload> {
  perform(p: KeyedPayload): Promise<void> {
    return holdSlot('single', 'single', p.n === -1 ? 0 : 30);
  }
}

/** No limit of its own: only the module's `flow` limits apply to it. */
@Injectable()
@Job({ name: 'limits.tenant' })
class TenantJob implements JobHandler<KeyedPayload> {
  perform(_: KeyedPayload, ctx: JobContext): Promise<void> {
    return holdSlot('tenant', `account:${ctx.accountId}`, 15);
  }
}

/** The same job on another queue (enqueued with `queue: 'imports'`). */
@Injectable()
@Job({ name: 'limits.unlimited', tenant: 'none' })
class UnlimitedJob implements JobHandler<KeyedPayload> {
  perform(): Promise<void> {
    return holdSlot('unlimited', 'unlimited', 0);
  }
}

/** At most 5 starts per 400 ms window, across every worker. */
@Injectable()
@Job({ name: 'limits.rated', tenant: 'none', rate: { limit: 5, periodMs: 400 } })
class RatedJob implements JobHandler<KeyedPayload> {
  perform(): Promise<void> {
    return holdSlot('rated', 'rated', 0);
  }
}

/** Keys from a function the tests make hostile. */
let hostileKey: (p: KeyedPayload) => unknown = () => 'ok';
@Injectable()
@Job({
  name: 'limits.hostile',
  tenant: 'none',
  concurrency: { limit: 1, key: (p: KeyedPayload) => hostileKey(p) as string },
})
class HostileKeyJob implements JobHandler<KeyedPayload> {
  perform(): void {}
}

const JOBS = [KeyedJob, SingleJob, TenantJob, UnlimitedJob, RatedJob, HostileKeyJob];

describe('concurrency and rate limits across workers', () => {
  let db: TestDatabase;
  let pool: Pool;
  const apps: TestingModule[] = [];

  beforeEach(async () => {
    running.clear();
    maxRunning.clear();
    started.length = 0;
    db = await createTestDatabase();
    pool = new Pool({ connectionString: db.url, max: 2 });
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await pool.end();
    await db.drop();
  });

  /** `count` worker apps on the test database (the first runs the migrations before the others start). */
  async function workers(count: number, jobs: JobsModuleOptions = {}): Promise<JobQueueService> {
    for (let i = 0; i < count; i++) {
      apps.push(
        await createJobsApp({
          url: db.url,
          providers: JOBS,
          jobs: {
            tenant: { clsKey: 'accountId' },
            ...jobs,
            worker: { concurrency: 5, pollIntervalMs: 50, ...jobs.worker },
          },
        }),
      );
    }
    return apps[0].get(JobQueueService);
  }

  async function states(name: string): Promise<Record<string, number>> {
    const { rows } = await pool.query<{ state: string; n: number }>(
      'select state, count(*)::int as n from jobs.jobs where name = $1 group by state',
      [name],
    );
    return Object.fromEntries(rows.map((r) => [r.state, r.n]));
  }

  async function attempts(name: string): Promise<number[]> {
    const { rows } = await pool.query<{ attempts: number }>(
      'select distinct attempts from jobs.jobs where name = $1 order by 1',
      [name],
    );
    return rows.map((r) => r.attempts);
  }

  it('never runs more than the limit per key at once across 3 workers, and counts no attempt for waiting', async () => {
    const jobs = await workers(3);
    const keys = ['a', 'b', 'c'];
    await jobs.performAllLater(
      KeyedJob,
      Array.from({ length: 90 }, (_, n) => ({ payload: { key: keys[n % 3], n } })),
    );
    await waitFor(async () => (await states('limits.keyed')).completed === 90, {
      message: 'every keyed job to complete',
      timeoutMs: 30_000,
    });
    for (const key of keys) expect(maxRunning.get(`keyed:${key}`)).toBe(2);
    // 15 workers' slots, 6 usable: waiting over the limit was never an attempt.
    expect(await attempts('limits.keyed')).toEqual([1]);
  }, 45_000);

  it('without a key, the limit holds for the whole job', async () => {
    const jobs = await workers(2);
    await jobs.performAllLater(
      SingleJob,
      Array.from({ length: 12 }, (_, n) => ({ payload: { key: 'x', n } })),
    );
    await waitFor(async () => (await states('limits.single')).completed === 12, {
      message: 'every single job to complete',
      timeoutMs: 20_000,
    });
    expect(maxRunning.get('single')).toBe(1);
  }, 30_000);

  it('limits each account module-wide, and a queue that sets its own limit apart', async () => {
    const jobs = await workers(3, {
      flow: { accountConcurrency: 2, queues: { imports: { accountConcurrency: 1 } } },
    });
    const items = (accountId: string, queue?: string) =>
      Array.from({ length: 20 }, (_, n) => ({ payload: { key: '', n }, accountId, queue }));
    await jobs.performAllLater(TenantJob, [...items('acme'), ...items('globex')]);
    await waitFor(async () => (await states('limits.tenant')).completed === 40, {
      message: 'the default queue to drain',
      timeoutMs: 30_000,
    });
    expect(maxRunning.get('account:acme')).toBe(2);
    expect(maxRunning.get('account:globex')).toBe(2);
    maxRunning.clear();
    await jobs.performAllLater(TenantJob, items('acme', 'imports'));
    await waitFor(async () => (await states('limits.tenant')).completed === 60, {
      message: 'the imports queue to drain',
      timeoutMs: 30_000,
    });
    expect(maxRunning.get('account:acme')).toBe(1);
    expect(await attempts('limits.tenant')).toEqual([1]);
  }, 60_000);

  it('with fair claiming on, holds the limits and still runs the jobs without one', async () => {
    const jobs = await workers(2, {
      worker: { fairness: 'account' },
      flow: { accountConcurrency: 1 },
    });
    await jobs.performAllLater(
      TenantJob,
      ['acme', 'globex'].flatMap((accountId) =>
        Array.from({ length: 10 }, (_, n) => ({ payload: { key: '', n }, accountId })),
      ),
    );
    await jobs.performAllLater(
      UnlimitedJob,
      Array.from({ length: 20 }, (_, n) => ({ payload: { key: '', n } })),
    );
    await waitFor(
      async () =>
        (await states('limits.tenant')).completed === 20 &&
        (await states('limits.unlimited')).completed === 20,
      { message: 'both kinds of jobs to complete', timeoutMs: 20_000 },
    );
    expect(maxRunning.get('account:acme')).toBe(1);
    expect(maxRunning.get('account:globex')).toBe(1);
  }, 30_000);

  it('frees the slot of a worker that died when its lease expires, before any rescue', async () => {
    // Rescues every 30 s (the default): the slot must come back through the lease alone.
    const jobs = await workers(2);
    const [dead] = await jobs.performAllLater(SingleJob, [{ payload: { key: 'x', n: -1 } }]);
    // A worker that claimed it and died: running, leased for 1.5 s more, never finished.
    await pool.query(
      `update jobs.jobs set state = 'running', locked_by = 'dead-worker', attempts = 1,
         started_at = now(), locked_until = now() + interval '1500 milliseconds' where id = $1`,
      [dead],
    );
    const { rows } = await pool.query<{ until: string }>(
      `select (extract(epoch from locked_until) * 1000)::float8 as until from jobs.jobs where id = $1`,
      [dead],
    );
    await jobs.performAllLater(
      SingleJob,
      Array.from({ length: 3 }, (_, n) => ({ payload: { key: 'x', n } })),
    );
    await waitFor(async () => (await states('limits.single')).completed === 3, {
      message: 'the waiting jobs to run once the dead lease expired',
      timeoutMs: 10_000,
    });
    const { rows: first } = await pool.query<{ at: string }>(
      `select (extract(epoch from min(started_at)) * 1000)::float8 as at from jobs.jobs
       where name = 'limits.single' and id <> $1`,
      [dead],
    );
    expect(Number(first[0].at)).toBeGreaterThanOrEqual(Number(rows[0].until));
    // The dead job itself is still running: no rescue happened, only its lease ran out.
    expect((await states('limits.single')).running).toBe(1);
    expect(maxRunning.get('single')).toBe(1);
  }, 20_000);

  it('does not hold up jobs without limits behind a backlog of limited ones', async () => {
    const jobs = await workers(1);
    await jobs.performAllLater(
      SingleJob,
      Array.from({ length: 300 }, (_, n) => ({ payload: { key: 'x', n } })),
    );
    await waitFor(() => started.length >= 1, { message: 'the limited backlog to start' });
    await jobs.performAllLater(
      UnlimitedJob,
      Array.from({ length: 50 }, (_, n) => ({ payload: { key: '', n } })),
    );
    await waitFor(async () => (await states('limits.unlimited')).completed === 50, {
      message: 'the unlimited jobs to complete',
      timeoutMs: 10_000,
    });
    // They ran while the backlog (30 ms a job, one at a time) was still nearly whole.
    expect((await states('limits.single')).available).toBeGreaterThan(250);
  }, 20_000);

  it('holds a rate limit across workers: at most 5 starts per 400 ms window', async () => {
    const jobs = await workers(3);
    await jobs.performAllLater(
      RatedJob,
      Array.from({ length: 30 }, (_, n) => ({ payload: { key: '', n } })),
    );
    await waitFor(async () => (await states('limits.rated')).completed === 30, {
      message: 'every rated job to complete',
      timeoutMs: 20_000,
    });
    const { rows } = await pool.query<{ w: string; n: number }>(
      `select floor(extract(epoch from started_at) * 1000 / 400)::text as w, count(*)::int as n
       from jobs.jobs where name = 'limits.rated' group by 1 order by 1`,
    );
    expect(Math.max(...rows.map((r) => r.n))).toBe(5);
    expect(rows.length).toBeGreaterThanOrEqual(6);
    expect(await attempts('limits.rated')).toEqual([1]);
  }, 30_000);

  it('limits starts per account of a queue', async () => {
    const jobs = await workers(2, {
      flow: { queues: { mailers: { rate: { limit: 3, periodMs: 500, per: 'account' } } } },
    });
    const items = (accountId: string) =>
      Array.from({ length: 9 }, (_, n) => ({
        payload: { key: '', n },
        accountId,
        queue: 'mailers',
      }));
    await jobs.performAllLater(TenantJob, [...items('acme'), ...items('globex')]);
    await waitFor(async () => (await states('limits.tenant')).completed === 18, {
      message: 'every mail to complete',
      timeoutMs: 20_000,
    });
    const { rows } = await pool.query<{ n: number }>(
      `select count(*)::int as n from jobs.jobs where name = 'limits.tenant'
       group by account_id, floor(extract(epoch from started_at) * 1000 / 500)`,
    );
    expect(Math.max(...rows.map((r) => r.n))).toBe(3);
  }, 30_000);

  it.each([
    ['an empty string', () => '', 'must return a non-empty string'],
    ['a number', () => 42, 'must return a non-empty string, got 42'],
    ['a string with U+0000', () => 'a\u0000b', 'U+0000'],
    ['a lone surrogate', () => 'x\ud800', 'lone UTF-16 surrogate'],
    ['a 256-character string', () => 'k'.repeat(256), 'at most 255 characters'],
    [
      'a throw',
      () => {
        throw new Error('no key today');
      },
      'the key function threw (Error: no key today)',
    ],
  ])(
    'refuses a key function that returns %s, naming the job and the field, writing nothing',
    async (_what, key, message) => {
      const jobs = await workers(1, { worker: { enabled: false } });
      hostileKey = key;
      const attempt = jobs.performAllLater(HostileKeyJob, [
        { payload: { key: 'fine', n: 0 } },
        { payload: { key: 'bad', n: 1 } },
      ]);
      await expect(attempt).rejects.toThrow(InvalidEnqueueOptionsError);
      await expect(attempt).rejects.toThrow(`"[0].concurrency.key" for job "limits.hostile"`);
      await expect(attempt).rejects.toThrow(message);
      expect(await states('limits.hostile')).toEqual({});
      hostileKey = () => 'ok';
    },
  );
});
