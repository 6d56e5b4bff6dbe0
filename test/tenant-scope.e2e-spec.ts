/*
 * Hardening #12: operations of JobQueueService are tenant-scoped. Inside an account's CLS context they
 * see and change only that account's jobs (another account's job is "not found"); system code outside
 * any account, `{ allAccounts: true }` and `{ accountId }` act across accounts. Real PostgreSQL, worker
 * off (rows are put in the states each operation needs with plain SQL), and the in-memory store of
 * JobsTestingModule.
 */
import { Test, TestingModule } from '@nestjs/testing';
import { ClsModule, ClsService } from 'nestjs-cls';
import { DataSource } from 'typeorm';
import {
  InvalidAccountIdError,
  InvalidArgumentError,
  Job,
  JobHandler,
  JobQueueService,
} from 'nestjs-tenant-jobs';
import { JobsTestingModule } from 'nestjs-tenant-jobs/testing';
import { createTestDatabase, TestDatabase } from './support/database';
import { createJobsApp } from './support/jobs-app';
import { trackApp } from './support/open-apps';

const CLS_KEY = 'accountId';
const A = 'account-a';
const B = 'account-b';

@Job({ name: 'scope.note' })
class NoteJob implements JobHandler<{ n: number }> {
  perform(): void {}
}

@Job({ name: 'scope.sweep', tenant: 'none' })
class SweepJob implements JobHandler<{ n: number }> {
  perform(): void {}
}

/** Runs `fn` as a request of `accountId` would (`undefined`: a context with no account). */
function inAccountOf(cls: ClsService) {
  return <T>(accountId: string | undefined, fn: () => Promise<T>): Promise<T> =>
    cls.run(() => {
      cls.set(CLS_KEY, accountId);
      return fn();
    });
}

describe('tenant-scoped operations (PostgreSQL)', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let jobs: JobQueueService;
  let ds: DataSource;
  let inAccount: ReturnType<typeof inAccountOf>;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      providers: [NoteJob, SweepJob],
      jobs: { tenant: { clsKey: CLS_KEY }, worker: { enabled: false } },
    });
    jobs = app.get(JobQueueService);
    ds = app.get(DataSource);
    inAccount = inAccountOf(app.get(ClsService));
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  /** A job of `account` (global for `null`) in `state`, finished two hours ago if finished. */
  async function jobIn(account: string | null, state: string): Promise<string> {
    const id =
      account === null
        ? await jobs.performLater(SweepJob, { n: 1 }, { delayMs: 3_600_000 })
        : await jobs.performLater(NoteJob, { n: 1 }, { accountId: account, delayMs: 3_600_000 });
    if (state !== 'available') {
      await ds.query(
        `update jobs.jobs set state = $2, finished_at = now() - interval '2 hours' where id = $1`,
        [id, state],
      );
    }
    return id;
  }

  const stateOf = async (id: string) =>
    (
      (await ds.query(`select state from jobs.jobs where id = $1`, [id])) as Array<{
        state: string;
      }>
    )[0]?.state;

  it("in B's context, A's jobs are not found and cannot be changed", async () => {
    const scheduled = await jobIn(A, 'available');
    const failed = await jobIn(A, 'failed');
    const cancelled = await jobIn(A, 'cancelled');
    const completed = await jobIn(A, 'completed');
    await jobIn(B, 'available');

    await inAccount(B, async () => {
      expect(await jobs.find(scheduled)).toBeNull();
      expect(await jobs.cancel(scheduled)).toBe(false);
      expect(await jobs.retry(failed)).toBe(false);
      expect(await jobs.discard(cancelled)).toBe(false);
      const page = await jobs.listFailed({ limit: 1_000 });
      expect(page.jobs.map((j) => j.accountId)).not.toContain(A);
      expect(page.jobs.map((j) => j.id)).not.toContain(failed);
      expect(await jobs.purge({ olderThanMs: 60_000 })).toBe(0);
      const counts = await jobs.countByState();
      expect(counts.reduce((sum, c) => sum + c.count, 0)).toBe(
        Number(
          (await ds.query(`select count(*) from jobs.jobs where account_id = $1`, [B]))[0].count,
        ),
      );
    });

    expect(await stateOf(scheduled)).toBe('available');
    expect(await stateOf(failed)).toBe('failed');
    expect(await stateOf(cancelled)).toBe('cancelled');
    expect(await stateOf(completed)).toBe('completed');
  });

  it("in A's context, A's jobs are found and changed; global jobs are not found", async () => {
    const scheduled = await jobIn(A, 'available');
    const failed = await jobIn(A, 'failed');
    const discarded = await jobIn(A, 'failed');
    const globalFailed = await jobIn(null, 'failed');

    await inAccount(A, async () => {
      expect(await jobs.find(scheduled)).toMatchObject({ id: scheduled, accountId: A });
      expect(await jobs.find(globalFailed)).toBeNull();
      expect(await jobs.retry(globalFailed)).toBe(false);
      const listed = (await jobs.listFailed({ limit: 1_000 })).jobs;
      expect(listed.map((j) => j.id)).toEqual(expect.arrayContaining([failed, discarded]));
      expect(listed.every((j) => j.accountId === A)).toBe(true);
      expect(await jobs.cancel(scheduled)).toBe(true);
      expect(await jobs.retry(failed)).toBe(true);
      expect(await jobs.discard(discarded)).toBe(true);
    });
    expect(await stateOf(scheduled)).toBe('cancelled');
    expect(await stateOf(failed)).toBe('available');
    expect(await stateOf(discarded)).toBeUndefined();
    expect(await stateOf(globalFailed)).toBe('failed');
  });

  it("purge in an account's context deletes only that account's finished jobs", async () => {
    const a = await jobIn(A, 'completed');
    const b = await jobIn(B, 'completed');
    const global = await jobIn(null, 'completed');
    expect(
      await inAccount(B, () => jobs.purge({ olderThanMs: 60_000, states: ['completed'] })),
    ).toBe(1);
    expect(await stateOf(b)).toBeUndefined();
    expect(await stateOf(a)).toBe('completed');
    expect(await stateOf(global)).toBe('completed');
  });

  it('system code outside any account sees every account and the global jobs', async () => {
    const a = await jobIn(A, 'failed');
    const b = await jobIn(B, 'failed');
    const global = await jobIn(null, 'failed');
    for (const id of [a, b, global]) expect(await jobs.find(id)).toMatchObject({ id });
    // A CLS context without an account is system code too.
    expect(await inAccount(undefined, () => jobs.find(a))).toMatchObject({ id: a });
    const listed = (await jobs.listFailed({ limit: 1_000 })).jobs.map((j) => j.id);
    expect(listed).toEqual(expect.arrayContaining([a, b, global]));
    const total = Number((await ds.query(`select count(*) from jobs.jobs`))[0].count);
    expect((await jobs.countByState()).reduce((sum, c) => sum + c.count, 0)).toBe(total);
  });

  it('explicit { accountId } and { allAccounts: true } cross tenants on purpose', async () => {
    const a = await jobIn(A, 'failed');
    const global = await jobIn(null, 'failed');
    await inAccount(B, async () => {
      expect(await jobs.find(a, { accountId: A })).toMatchObject({ id: a });
      expect(await jobs.find(global, { accountId: A })).toBeNull();
      expect(await jobs.find(global, { allAccounts: true })).toMatchObject({ id: global });
      const forA = (await jobs.listFailed({ accountId: A, limit: 1_000 })).jobs;
      expect(forA.map((j) => j.id)).toContain(a);
      expect(forA.every((j) => j.accountId === A)).toBe(true);
      const all = (await jobs.listFailed({ allAccounts: true, limit: 1_000 })).jobs;
      expect(all.map((j) => j.id)).toEqual(expect.arrayContaining([a, global]));
      expect(await jobs.retry(a, { accountId: A })).toBe(true);
      expect(await jobs.cancel(a, { allAccounts: true })).toBe(true);
      expect(await jobs.discard(a, { accountId: A })).toBe(true);
    });
    // From system code, { accountId } narrows to that account.
    expect(await jobs.find(global, { accountId: A })).toBeNull();
    expect(await jobs.find(global)).toMatchObject({ id: global });
  });

  it('refuses contradictory or invalid scopes before any statement', async () => {
    await expect(jobs.find('1', { accountId: A, allAccounts: true })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(jobs.countByState({ accountId: { id: 1 } as never })).rejects.toBeInstanceOf(
      InvalidAccountIdError,
    );
    await expect(jobs.purge({ olderThanMs: 0, accountId: ' ' })).rejects.toBeInstanceOf(
      InvalidAccountIdError,
    );
  });
});

describe('tenant-scoped operations (JobsTestingModule, in memory)', () => {
  let moduleRef: TestingModule;
  let jobs: JobQueueService;
  let inAccount: ReturnType<typeof inAccountOf>;

  beforeAll(async () => {
    moduleRef = trackApp(
      await Test.createTestingModule({
        imports: [
          ClsModule.forRoot({ global: true }),
          JobsTestingModule.forRoot({ tenant: { clsKey: CLS_KEY } }),
        ],
        providers: [NoteJob, SweepJob],
      }).compile(),
      'testing module',
    );
    await moduleRef.init();
    jobs = moduleRef.get(JobQueueService);
    inAccount = inAccountOf(moduleRef.get(ClsService));
  });

  afterAll(async () => {
    await moduleRef?.close();
  });

  it("scopes find, cancel and countByState to the current account like PostgreSQL's store", async () => {
    const a = await inAccount(A, () => jobs.performLater(NoteJob, { n: 1 }));
    const global = await jobs.performLater(SweepJob, { n: 2 });
    await inAccount(B, async () => {
      expect(await jobs.find(a)).toBeNull();
      expect(await jobs.find(global)).toBeNull();
      expect(await jobs.cancel(a)).toBe(false);
      expect(await jobs.countByState()).toEqual([]);
      expect(await jobs.find(a, { allAccounts: true })).toMatchObject({ id: a });
    });
    await inAccount(A, async () => {
      expect(await jobs.countByState()).toEqual([
        { queue: 'default', state: 'available', count: 1, paused: false },
      ]);
      expect(await jobs.find(a)).toMatchObject({ id: a, state: 'available' });
    });
    expect(await jobs.find(global)).toMatchObject({ id: global });
    expect(await inAccount(A, () => jobs.cancel(a))).toBe(true);
  });
});
