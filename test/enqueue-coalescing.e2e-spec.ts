import { Injectable } from '@nestjs/common';
import { TestingModule } from '@nestjs/testing';
import { IsInt, IsString } from 'class-validator';
import { ClsService } from 'nestjs-cls';
import {
  EnqueueFailedError,
  Job,
  JobEnqueuedEvent,
  JobHandler,
  JobQueueService,
  OnJobEvent,
} from 'nestjs-tenant-jobs';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createTestDatabase, TestDatabase, withClient } from './support/database';
import { createJobsApp } from './support/jobs-app';
import { waitForJobState } from './support/jobs';
import { waitFor } from './support/wait-for';

const CLS_KEY = 'accountId';

class NotePayload {
  @IsString() text: string;
  @IsInt() n: number;
}

@Job({ name: 'coalesce.note', payload: NotePayload })
class NoteJob implements JobHandler<NotePayload> {
  perform(): void {}
}

@Injectable()
class EnqueuedEvents {
  readonly seen: JobEnqueuedEvent[] = [];

  @OnJobEvent('enqueued')
  record(event: JobEnqueuedEvent): void {
    this.seen.push(event);
  }
}

interface Row {
  id: string;
  account_id: string | null;
  text: string;
  n: number;
  unique_key: string | null;
}

/** Settles every promise, keeping each outcome (a rejection does not hide the others). */
const outcomes = <T>(calls: Array<Promise<T>>) => Promise.allSettled(calls);

describe('concurrent enqueues outside a transaction are coalesced (group commit)', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let jobs: JobQueueService;
  let cls: ClsService;
  let events: EnqueuedEvents;

  const inAccount = <T>(accountId: string, fn: () => Promise<T>) =>
    cls.run(async () => {
      cls.set(CLS_KEY, accountId);
      return fn();
    });
  const sql = <T>(text: string, values: unknown[] = []) =>
    withClient(db.url, async (c) => (await c.query(text, values)).rows as T[]);
  const rows = (where = 'true', values: unknown[] = []) =>
    sql<Row>(
      `select id::text, account_id, payload->>'text' as text, (payload->>'n')::int as n, unique_key
       from jobs.jobs where ${where} order by id`,
      values,
    );
  /** Connections of the app's queue pool waiting on a table lock (their insert is in flight). */
  const blockedInserts = async () =>
    Number(
      (
        await sql<{ count: string }>(
          `select count(*) from pg_stat_activity
           where datname = $1 and wait_event_type = 'Lock' and query like '%jsonb_to_recordset%'`,
          [db.name],
        )
      )[0].count,
    );
  /** Holds a lock that makes every insert into the jobs table wait, until `release()`. */
  const blockInserts = async () => {
    const client = new Client({ connectionString: db.url });
    await client.connect();
    await client.query('begin');
    await client.query('lock table jobs.jobs in share mode');
    return {
      release: async () => {
        await client.query('rollback');
        await client.end();
      },
    };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      providers: [NoteJob, EnqueuedEvents],
      jobs: { tenant: { clsKey: CLS_KEY }, worker: { enabled: false } },
    });
    jobs = app.get(JobQueueService);
    cls = app.get(ClsService);
    events = app.get(EnqueuedEvents);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  beforeEach(async () => {
    await sql('delete from jobs.jobs');
    events.seen.length = 0;
  });

  it('gives each of 200 concurrent callers its own id and row, in its account, in fewer commits', async () => {
    const accounts = ['acme', 'globex', 'initech', 'umbrella'];
    const ids = await Promise.all(
      Array.from({ length: 200 }, (_, n) =>
        inAccount(accounts[n % 4], () => jobs.performLater(NoteJob, { text: `note ${n}`, n })),
      ),
    );

    expect(new Set(ids).size).toBe(200);
    const byId = new Map((await rows()).map((r) => [r.id, r]));
    expect(byId.size).toBe(200);
    ids.forEach((id, n) => {
      expect(byId.get(id)).toEqual({
        id,
        account_id: accounts[n % 4],
        text: `note ${n}`,
        n,
        unique_key: null,
      });
    });
    // Rows committed together share their transaction id: far fewer commits than calls.
    const [{ commits }] = await sql<{ commits: number }>(
      'select count(distinct xmin::text)::int as commits from jobs.jobs',
    );
    expect(commits).toBeLessThan(50);
    // Events still come one per job, with the id its caller got.
    expect(events.seen.map((e) => e.id).sort()).toEqual([...ids].sort());
  });

  it('gives concurrent callers of one unique key the same job, and the others their own', async () => {
    const [holder] = await Promise.all([
      jobs.performLater(
        NoteJob,
        { text: 'holder', n: -1 },
        { uniqueKey: 'held', accountId: 'acme' },
      ),
    ]);
    const calls = Array.from({ length: 30 }, (_, n) => {
      const uniqueKey =
        n % 10 === 3 ? 'shared' : n === 17 ? 'held' : n % 2 ? `own-${n}` : undefined;
      return jobs.performLater(NoteJob, { text: `call ${n}`, n }, { uniqueKey, accountId: 'acme' });
    });
    const ids = await Promise.all(calls);

    const shared = [3, 13, 23].map((n) => ids[n]);
    expect(new Set(shared).size).toBe(1);
    expect(ids[17]).toBe(holder);
    const table = await rows();
    expect(table.filter((r) => r.unique_key === 'shared')).toHaveLength(1);
    expect(table.find((r) => r.id === shared[0])?.text).toMatch(/^call (3|13|23)$/);
    expect(table.filter((r) => r.unique_key === 'held').map((r) => r.id)).toEqual([holder]);
    ids.forEach((id, n) => {
      if ([3, 13, 23, 17].includes(n)) return;
      expect(table.find((r) => r.id === id)).toMatchObject({ text: `call ${n}`, n });
    });
    expect(table).toHaveLength(1 + 30 - 3); // the holder, and 30 calls of which 3 found a holder
  });

  it('fails only the caller whose row PostgreSQL refuses, and writes every other call once', async () => {
    await sql(`
      create function jobs.refuse_poison() returns trigger language plpgsql as $$
      begin
        if new.payload->>'text' = 'poison' then raise exception 'refused by a trigger'; end if;
        return new;
      end $$;
      create trigger refuse_poison before insert on jobs.jobs
        for each row execute function jobs.refuse_poison();`);
    try {
      const results = await outcomes(
        Array.from({ length: 40 }, (_, n) =>
          jobs.performLater(
            NoteJob,
            { text: n === 25 ? 'poison' : `good ${n}`, n },
            { accountId: 'acme' },
          ),
        ),
      );

      const failed = results.flatMap((r, n) => (r.status === 'rejected' ? [n] : []));
      expect(failed).toEqual([25]);
      const error = (results[25] as PromiseRejectedResult).reason as EnqueueFailedError;
      expect(error).toBeInstanceOf(EnqueueFailedError);
      expect(error.jobName).toBe('coalesce.note');
      expect(error.retryable).toBe(false);
      expect(error.message).toContain('refused by a trigger');
      const table = await rows();
      expect(table.map((r) => r.n).sort((a, b) => a - b)).toEqual(
        Array.from({ length: 40 }, (_, n) => n).filter((n) => n !== 25),
      );
    } finally {
      await sql('drop trigger refuse_poison on jobs.jobs; drop function jobs.refuse_poison()');
    }
  });

  it("commits a job enqueued in a caller's transaction with it, apart from the others", async () => {
    const dataSource = app.get(DataSource);
    const outside = Array.from({ length: 20 }, (_, n) =>
      jobs.performLater(NoteJob, { text: `outside ${n}`, n }, { accountId: 'acme' }),
    );
    const inside = dataSource
      .transaction(async (manager) => {
        await Promise.all(
          [100, 101].map((n) =>
            jobs.performLater(NoteJob, { text: 'inside', n }, { manager, accountId: 'acme' }),
          ),
        );
        throw new Error('roll back');
      })
      .catch((e: Error) => e.message);

    expect(await inside).toBe('roll back');
    expect(await Promise.all(outside)).toHaveLength(20);
    const table = await rows();
    expect(table.filter((r) => r.text === 'inside')).toEqual([]);
    expect(table).toHaveLength(20);
  });

  it('rejects every call waiting in a batch when the database goes away, and resolves none without its row', async () => {
    const lock = await blockInserts();
    let results: Array<PromiseSettledResult<string>>;
    try {
      const calls = outcomes(
        Array.from({ length: 60 }, (_, n) =>
          jobs.performLater(NoteJob, { text: `lost ${n}`, n }, { accountId: 'acme' }),
        ),
      );
      await waitFor(async () => (await blockedInserts()) >= 1, { message: 'an insert in flight' });
      let settled = false;
      void calls.then(() => (settled = true));
      // The outage: every connection that tries to insert is cut, until every caller has its answer.
      await waitFor(
        async () => {
          await sql(
            `select pg_terminate_backend(pid) from pg_stat_activity
             where datname = $1 and wait_event_type = 'Lock' and query like '%jsonb_to_recordset%'`,
            [db.name],
          );
          return settled;
        },
        { message: 'every call settled' },
      );
      results = await calls;
    } finally {
      await lock.release();
    }

    for (const r of results) {
      expect(r.status).toBe('rejected');
      const error = (r as PromiseRejectedResult).reason as EnqueueFailedError;
      expect(error).toBeInstanceOf(EnqueueFailedError);
      expect(error.retryable).toBe(true);
    }
    expect(await rows()).toEqual([]);
    // Back up: the next calls are written as before.
    const ids = await Promise.all(
      [1, 2, 3].map((n) => jobs.performLater(NoteJob, { text: 'after', n }, { accountId: 'acme' })),
    );
    expect((await rows()).map((r) => r.id).sort()).toEqual([...ids].sort());
  });

  it('wakes an idle worker for jobs of an insert that went beside another (no NOTIFY of its own)', async () => {
    const worker = await createJobsApp({
      url: db.url,
      providers: [NoteJob],
      // Polling once a minute: only a NOTIFY can start these jobs within the test's timeout.
      jobs: { tenant: { clsKey: CLS_KEY }, worker: { pollIntervalMs: 60_000 } },
    });
    try {
      const queue = worker.get(JobQueueService);
      const enqueue = (text: string, n: number) =>
        queue.performLater(NoteJob, { text, n }, { accountId: 'acme' });
      const first = await enqueue('warm-up', 0);
      await waitForJobState(queue, first, 'completed'); // the worker listens, and is idle again

      const lock = await blockInserts();
      let alone: Promise<unknown>;
      let beside: Promise<string[]>;
      try {
        // Sent alone (nothing else in flight): it would notify in its own statement...
        alone = enqueue('alone', 1).catch((e: unknown) => e);
        await waitFor(async () => (await blockedInserts()) === 1, { message: 'the first insert' });
        // ...and these go beside it, in one insert without pg_notify.
        beside = Promise.all([2, 3, 4, 5].map((n) => enqueue('beside', n)));
        await waitFor(async () => (await blockedInserts()) === 2, { message: 'the second insert' });
        // The first one never commits: only the wake-up after the second can start its jobs.
        await sql(
          `select pg_terminate_backend(pid) from pg_stat_activity
           where datname = $1 and wait_event_type = 'Lock' and query like '%jsonb_to_recordset%'
           order by query_start limit 1`,
          [db.name],
        );
        expect(await alone).toBeInstanceOf(EnqueueFailedError);
      } finally {
        await lock.release();
      }
      for (const id of await beside) await waitForJobState(queue, id, 'completed');
    } finally {
      await worker.close();
    }
  });

  it('writes the calls waiting at shutdown before closing its connections, and refuses later ones', async () => {
    const other = await createJobsApp({
      url: db.url,
      providers: [NoteJob],
      jobs: { tenant: { clsKey: CLS_KEY }, worker: { enabled: false } },
    });
    const queue = other.get(JobQueueService);
    const enqueue = (text: string, n: number) =>
      queue.performLater(NoteJob, { text, n }, { accountId: 'acme' });
    const lock = await blockInserts();
    const calls: Array<Promise<string>> = [];
    let refused: unknown;
    let closing: Promise<void>;
    try {
      for (let n = 0; n < 50; n++) calls.push(enqueue(`at shutdown ${n}`, n));
      await waitFor(async () => (await blockedInserts()) >= 1, { message: 'an insert in flight' });
      closing = other.close();
      // Until the app refuses a call, every probe is accepted (and must be written too).
      let probes = 0;
      await waitFor(
        () => {
          enqueue('probe', ++probes).then(
            (id) => calls.push(Promise.resolve(id)),
            (error: unknown) => (refused = error),
          );
          return refused !== undefined;
        },
        { intervalMs: 5, message: 'a call refused by the closing app' },
      );
    } finally {
      await lock.release();
    }
    await closing;

    expect(refused).toBeInstanceOf(EnqueueFailedError);
    expect((refused as Error).message).toContain('shut down');
    const ids = await Promise.all(calls);
    expect(ids.length).toBeGreaterThanOrEqual(50);
    expect((await rows()).map((r) => r.id).sort()).toEqual([...new Set(ids)].sort());
  });
  it('after shutdown, bulk enqueues and look-ups are refused instead of opening a pool nobody ends', async () => {
    const other = await createJobsApp({
      url: db.url,
      providers: [NoteJob],
      jobs: { tenant: { clsKey: CLS_KEY }, worker: { enabled: false } },
    });
    const queue = other.get(JobQueueService);
    const id = await queue.performLater(
      NoteJob,
      { text: 'before close', n: 0 },
      { accountId: 'acme' },
    );
    await other.close();
    const connections = () =>
      sql<{ n: number }>(
        `select count(*)::int as n from pg_stat_activity where datname = current_database()`,
      ).then(([row]) => row.n);
    const before = await connections();

    // 150 jobs: the bulk path, which goes straight to the pool rather than through the batcher.
    const many = Array.from({ length: 150 }, (_, n) => ({
      payload: { text: `after close ${n}`, n },
      accountId: 'acme',
    }));
    const bulk = queue.performAllLater(NoteJob, many);
    await expect(bulk).rejects.toThrow(/shut down/);
    await expect(queue.find(id, { accountId: 'acme' })).rejects.toThrow(/shut down/);
    expect(await connections()).toBe(before);
    expect(await rows(`payload->>'text' like 'after close%'`)).toEqual([]);
  });
});
