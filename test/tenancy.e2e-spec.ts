import { Injectable } from '@nestjs/common';
import { TestingModule } from '@nestjs/testing';
import { IsInt, IsOptional, IsString } from 'class-validator';
import { ClsModule, ClsService, InjectableProxy } from 'nestjs-cls';
import { DataSource } from 'typeorm';
import {
  AccountResolver,
  Job,
  JobContext,
  JobHandler,
  JobQueueService,
  MissingTenantError,
} from 'nestjs-tenant-jobs';
import { createTestDatabase, TestDatabase } from './support/database';
import { waitFor } from './support/wait-for';
import { createJobsApp } from './support/jobs-app';
import { waitForJobState } from './support/jobs';

const CLS_KEY = 'accountId';

/** What each perform saw: the account in CLS (handler and a service it calls) and in its context. */
interface Sighting {
  jobId: string;
  attempt: number;
  cls: string | undefined;
  service: string | undefined;
  proxy: string | undefined;
  ctx: string | null;
}
const sightings: Sighting[] = [];

/** A request-scoped-like proxy provider resolved per CLS context: proves proxies are resolved per job. */
@InjectableProxy()
class CurrentAccount {
  readonly id: string | undefined;
  constructor(cls: ClsService) {
    this.id = cls.get(CLS_KEY);
  }
}

@Injectable()
class AccountScopedService {
  constructor(private readonly cls: ClsService) {}
  current(): string | undefined {
    return this.cls.get(CLS_KEY);
  }
}

class NotePayload {
  @IsString() note: string;
  @IsOptional() @IsInt() failUntilAttempt?: number;
}

@Job({
  name: 'tenant.note',
  payload: NotePayload,
  maxAttempts: 3,
  backoff: { type: 'fixed', baseMs: 0, jitter: 0 },
})
class NoteJob implements JobHandler<NotePayload> {
  constructor(
    private readonly cls: ClsService,
    private readonly service: AccountScopedService,
    private readonly account: CurrentAccount,
    private readonly jobs: JobQueueService,
  ) {}

  async perform(payload: NotePayload, ctx: JobContext): Promise<void> {
    sightings.push({
      jobId: ctx.id,
      attempt: ctx.attempt,
      cls: this.cls.get(CLS_KEY),
      service: this.service.current(),
      proxy: this.account.id,
      ctx: ctx.accountId,
    });
    if (payload.note === 'spawn') await this.jobs.performLater(NoteJob, { note: 'child' });
    if (payload.failUntilAttempt && ctx.attempt < payload.failUntilAttempt)
      throw new Error('flaky');
  }
}

@Job({ name: 'tenant.sweep', tenant: 'none' })
class SweepJob implements JobHandler<{ accounts: string[] }> {
  constructor(
    private readonly cls: ClsService,
    private readonly jobs: JobQueueService,
  ) {}

  async perform({ accounts }: { accounts: string[] }, ctx: JobContext): Promise<void> {
    sightings.push({
      jobId: ctx.id,
      attempt: ctx.attempt,
      cls: this.cls.get(CLS_KEY),
      service: undefined,
      proxy: undefined,
      ctx: ctx.accountId,
    });
    await this.jobs.performAllLater(
      NoteJob,
      accounts.map((accountId) => ({ payload: { note: 'fan-out' }, accountId })),
    );
  }
}

/** The app's account check: `closed-*` accounts are disabled, `gone-*` ones do not exist. */
@Injectable()
class Accounts implements AccountResolver {
  resolve(accountId: string) {
    if (accountId.startsWith('gone-')) return null;
    return { id: accountId, active: !accountId.startsWith('closed-') } as const;
  }
}
@Injectable()
class ActiveAccounts implements AccountResolver {
  constructor(private readonly accounts: Accounts) {}
  resolve(accountId: string) {
    const account = this.accounts.resolve(accountId);
    return account?.active ? account : null;
  }
}

describe('tenant context', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let jobs: JobQueueService;
  let cls: ClsService;

  const inAccount = <T>(accountId: string | undefined, fn: () => Promise<T>) =>
    cls.run(async () => {
      cls.set(CLS_KEY, accountId);
      return fn();
    });
  const seen = (jobId: string) => sightings.filter((s) => s.jobId === jobId);

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      cls: false,
      imports: [ClsModule.forRoot({ global: true, proxyProviders: [CurrentAccount] })],
      providers: [AccountScopedService, Accounts, ActiveAccounts, NoteJob, SweepJob],
      jobs: {
        tenant: { clsKey: CLS_KEY, resolver: ActiveAccounts, accountClsKey: 'account' },
        worker: { concurrency: 4, rescueIntervalMs: 100, heartbeatIntervalMs: 50, leaseMs: 200 },
      },
    });
    jobs = app.get(JobQueueService);
    cls = app.get(ClsService);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('captures the current account at enqueue into account_id, never into the payload', async () => {
    const id = await inAccount('acme', () => jobs.performLater(NoteJob, { note: 'hello' }));
    const job = await waitForJobState(jobs, id, 'completed');
    expect(job.accountId).toBe('acme');
    expect(job.payload).toEqual({ note: 'hello' });
    expect(seen(id)).toEqual([
      { jobId: id, attempt: 1, cls: 'acme', service: 'acme', proxy: 'acme', ctx: 'acme' },
    ]);
  });

  it('fails closed: a tenant-scoped job with no account throws and writes nothing', async () => {
    const before = await jobs.countByState();
    const outside = await jobs.performLater(NoteJob, { note: 'x' }).catch((e: unknown) => e);
    const empty = await inAccount(undefined, () => jobs.performLater(NoteJob, { note: 'x' })).catch(
      (e: unknown) => e,
    );
    for (const error of [outside, empty]) {
      expect(error).toBeInstanceOf(MissingTenantError);
      expect((error as Error).message).toMatch(/"tenant\.note".*accountId.*tenant: 'none'/s);
    }
    await expect(
      jobs.performAllLater(NoteJob, [{ payload: { note: 'x' } }]),
    ).rejects.toBeInstanceOf(MissingTenantError);
    expect(await jobs.countByState()).toEqual(before);
  });

  it('takes an explicit accountId from system code, and the payload can never choose the tenant', async () => {
    const id = await jobs.performLater(NoteJob, { note: 'admin', accountId: 'evil' } as never, {
      accountId: 'initech',
    });
    await waitForJobState(jobs, id, 'completed');
    expect(seen(id)[0].cls).toBe('initech');
  });

  it('runs a global job with no account in CLS, even when enqueued from a request that had one', async () => {
    const id = await inAccount('acme', () => jobs.performLater(SweepJob, { accounts: [] }));
    const job = await waitForJobState(jobs, id, 'completed');
    expect(job.accountId).toBeNull();
    expect(seen(id)[0]).toMatchObject({ cls: undefined, ctx: null });
  });

  it('lets a global job fan out one job per account in one bulk insert', async () => {
    const accounts = ['a1', 'a2', 'a3'];
    const id = await jobs.performLater(SweepJob, { accounts });
    await waitForJobState(jobs, id, 'completed');
    const ds = app.get(DataSource);
    const rows: Array<{ id: string; account_id: string }> = await waitFor(async () => {
      const r = await ds.query(
        `select id::text, account_id from jobs.jobs where payload->>'note' = 'fan-out' and state = 'completed'`,
      );
      return r.length === 3 ? r : undefined;
    });
    expect(rows.map((r) => r.account_id).sort()).toEqual(accounts);
    for (const row of rows) expect(seen(row.id)[0].cls).toBe(row.account_id);
  });

  it('gives jobs enqueued inside a running job the account of that job', async () => {
    const parent = await inAccount('globex', () => jobs.performLater(NoteJob, { note: 'spawn' }));
    await waitForJobState(jobs, parent, 'completed');
    const ds = app.get(DataSource);
    const [child] = await waitFor(async () => {
      const r: Array<{ id: string; account_id: string }> = await ds.query(
        `select id::text, account_id from jobs.jobs where payload->>'note' = 'child' and state = 'completed'`,
      );
      return r.length === 1 ? r : undefined;
    });
    expect(child.account_id).toBe('globex');
    expect(seen(child.id)[0].cls).toBe('globex');
  });

  it('keeps the original account across retries', async () => {
    const id = await inAccount('umbrella', () =>
      jobs.performLater(NoteJob, { note: 'flaky', failUntilAttempt: 3 }),
    );
    await waitForJobState(jobs, id, 'completed');
    expect(seen(id).map((s) => [s.attempt, s.cls])).toEqual([
      [1, 'umbrella'],
      [2, 'umbrella'],
      [3, 'umbrella'],
    ]);
  });

  it('keeps the original account when a job is retried by hand and when its lease is rescued', async () => {
    const id = await inAccount('hooli', () =>
      jobs.performLater(NoteJob, { note: 'flaky', failUntilAttempt: 9 }),
    );
    await waitForJobState(jobs, id, 'failed');
    expect(await jobs.retry(id)).toBe(true);
    await waitForJobState(jobs, id, 'failed');
    expect(seen(id).map((s) => s.cls)).toEqual(['hooli', 'hooli', 'hooli', 'hooli']);

    // A row left running by a dead worker that had recorded its start (started_attempt): its lease
    // runs out and the rescuer re-queues it, the attempt counted.
    const ds = app.get(DataSource);
    const [{ id: orphan }] = await ds.query(
      `insert into jobs.jobs (name, payload, account_id, state, attempts, started_attempt, locked_by, locked_until)
       values ('tenant.note', '{"note":"orphan"}', 'pied-piper', 'running', 1, 1, 'dead-worker', now() - interval '1 second')
       returning id::text as id`,
    );
    const rescued = await waitForJobState(jobs, orphan, 'completed');
    expect(rescued.accountId).toBe('pied-piper');
    expect(rescued.errors[0].name).toBe('LeaseExpiredError');
    expect(seen(orphan)[0]).toMatchObject({ attempt: 2, cls: 'pied-piper' });
  });

  it('fails a job whose account is disabled or gone with AccountUnavailableError, without retrying', async () => {
    const closed = await inAccount('closed-1', () => jobs.performLater(NoteJob, { note: 'x' }));
    const gone = await inAccount('gone-1', () => jobs.performLater(NoteJob, { note: 'x' }));
    for (const id of [closed, gone]) {
      const job = await waitForJobState(jobs, id, 'failed');
      expect(job.attempts).toBe(1);
      expect(job.lastError).toMatchObject({ name: 'AccountUnavailableError' });
      expect(seen(id)).toEqual([]);
    }
    const next = await inAccount('acme', () => jobs.performLater(NoteJob, { note: 'after' }));
    await waitForJobState(jobs, next, 'completed');
  });

  it('performs now in the caller account or the explicit one, in a fresh context', async () => {
    const result = await inAccount('acme', async () => {
      cls.set('leak', 'request-only');
      await jobs.performNow(NoteJob, { note: 'now' });
      await jobs.performNow(NoteJob, { note: 'now' }, { accountId: 'initech' });
      return { after: cls.get(CLS_KEY), leak: cls.get('leak') };
    });
    const nowSightings = sightings.filter((s) => s.jobId.startsWith('now-')).slice(-2);
    expect(nowSightings.map((s) => s.cls)).toEqual(['acme', 'initech']);
    expect(result).toEqual({ after: 'acme', leak: 'request-only' });
    await expect(jobs.performNow(NoteJob, { note: 'now' })).rejects.toBeInstanceOf(
      MissingTenantError,
    );
    await expect(
      jobs.performNow(NoteJob, { note: 'now' }, { accountId: 'closed-2' }),
    ).rejects.toThrow(/closed-2/);
  });
});

describe('tenant isolation under load', () => {
  let db: TestDatabase;
  let app: TestingModule;

  const ACCOUNTS = 50;
  const PER_ACCOUNT = 200;
  const records: Array<{
    jobId: string;
    row: string | null;
    cls: string | undefined;
    service: string | undefined;
  }> = [];
  const leakChecks: Array<string | undefined> = [];

  @Job({ name: 'iso.work', maxAttempts: 2, backoff: { type: 'fixed', baseMs: 0, jitter: 0 } })
  class IsolatedJob implements JobHandler<{ n: number }> {
    constructor(
      private readonly cls: ClsService,
      private readonly service: AccountScopedService,
    ) {}
    async perform({ n }: { n: number }, ctx: JobContext): Promise<void> {
      // Random short awaits interleave jobs of different accounts on the same event loop; a job that
      // started later often finishes first.
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 4)));
      records.push({
        jobId: ctx.id,
        row: ctx.accountId,
        cls: this.cls.get(CLS_KEY),
        service: this.service.current(),
      });
      await new Promise((r) => setImmediate(r));
      if (n % 10 === 0 && ctx.attempt === 1) throw new Error('first attempt fails');
    }
  }

  @Job({ name: 'iso.global', tenant: 'none' })
  class GlobalProbeJob implements JobHandler<Record<string, never>> {
    constructor(private readonly cls: ClsService) {}
    async perform(): Promise<void> {
      await new Promise((r) => setTimeout(r, 1));
      leakChecks.push(this.cls.get(CLS_KEY));
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      providers: [AccountScopedService, IsolatedJob, GlobalProbeJob],
      jobs: { tenant: { clsKey: CLS_KEY }, worker: { concurrency: 20 } },
    });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it(`${ACCOUNTS} accounts × ${PER_ACCOUNT} jobs at concurrency 20: every job sees only its own account`, async () => {
    const jobs = app.get(JobQueueService);
    const cls = app.get(ClsService);
    // Interleaved: round-robin over accounts, each enqueue inside that account's own CLS context.
    for (let i = 0; i < PER_ACCOUNT; i += 20) {
      for (let a = 0; a < ACCOUNTS; a++) {
        await cls.run(async () => {
          cls.set(CLS_KEY, `acct-${a}`);
          await jobs.performAllLater(
            IsolatedJob,
            Array.from({ length: 20 }, (_, k) => ({ payload: { n: i + k } })),
          );
        });
      }
      await jobs.performAllLater(
        GlobalProbeJob,
        Array.from({ length: 5 }, () => ({ payload: {} })),
      );
    }
    const ds = app.get(DataSource);
    await waitFor(
      async () =>
        (await ds.query(`select 1 from jobs.jobs where state <> 'completed' limit 1`)).length === 0,
      { timeoutMs: 60_000, message: 'every job to complete' },
    );
    const rows: Array<{ id: string; account_id: string | null }> = await ds.query(
      `select id::text, account_id from jobs.jobs where name = 'iso.work'`,
    );
    const accountOf = new Map(rows.map((r) => [r.id, r.account_id]));
    const mismatches = records.filter(
      (r) => r.cls !== accountOf.get(r.jobId) || r.service !== r.cls || r.row !== r.cls,
    );
    const total = ACCOUNTS * PER_ACCOUNT;
    console.log(
      `isolation: ${total} jobs, ${ACCOUNTS} accounts, ${records.length} performs (${records.length - total} retries), ${mismatches.length} mismatches`,
    );
    expect(rows).toHaveLength(total);
    expect(records.length).toBe(total + total / 10);
    expect(mismatches).toEqual([]);
    // Jobs overlapped: some job finished before one that was claimed ahead of it.
    expect(records.some((r, i) => i > 0 && Number(r.jobId) < Number(records[i - 1].jobId))).toBe(
      true,
    );
    expect(leakChecks).toHaveLength((PER_ACCOUNT / 20) * 5);
    expect(leakChecks.every((v) => v === undefined)).toBe(true);
    expect(cls.isActive()).toBe(false);
  }, 30_000); // 10,000 jobs: a bound for a loaded machine, not a performance assertion
});

describe('a clsKey that is a path into the CLS store', () => {
  let db: TestDatabase;
  let app: TestingModule;
  const seen: Array<{ path: unknown; tenant: unknown }> = [];

  @Job({ name: 'path.note' })
  class PathJob implements JobHandler<Record<string, never>> {
    constructor(private readonly cls: ClsService) {}
    perform(): void {
      seen.push({ path: this.cls.get('tenant.id'), tenant: this.cls.get('tenant') });
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      providers: [PathJob],
      jobs: { tenant: { clsKey: 'tenant.id' } },
    });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('captures the account from the path and sets it at the same path while the job performs', async () => {
    const cls = app.get(ClsService);
    const id = await cls.run(() => {
      cls.set('tenant', { id: 'acme', plan: 'pro' });
      return app.get(JobQueueService).performLater(PathJob, {});
    });
    expect((await waitForJobState(app.get(JobQueueService), id, 'completed')).accountId).toBe(
      'acme',
    );
    // Only the account travels with the job: the rest of the request's `tenant` object does not.
    expect(seen).toEqual([{ path: 'acme', tenant: { id: 'acme' } }]);
  });
});

describe('timeoutMs covers the account resolver (issue 13, finding 8)', () => {
  let db: TestDatabase;
  let app: TestingModule;
  const performed: string[] = [];

  /** A resolver stuck on a call that never returns, for one account. */
  @Injectable()
  class StuckResolver implements AccountResolver {
    resolve(accountId: string) {
      if (accountId === 'stuck') return new Promise<never>(() => undefined);
      return { id: accountId };
    }
  }

  @Job({ name: 'resolver.timed', timeoutMs: 300, maxAttempts: 1 })
  class TimedJob implements JobHandler<{ n: number }> {
    perform(payload: { n: number }, ctx: JobContext): void {
      performed.push(`${ctx.accountId}:${payload.n}`);
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      providers: [StuckResolver, TimedJob],
      jobs: { tenant: { clsKey: CLS_KEY, resolver: StuckResolver }, worker: { concurrency: 1 } },
    });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('a resolver that never settles times the attempt out (JobTimeoutError) and frees its slot', async () => {
    const jobs = app.get(JobQueueService);
    const stuck = await jobs.performLater(TimedJob, { n: 1 }, { accountId: 'stuck' });
    // One slot: this one runs only if the stuck attempt gave its slot back.
    const next = await jobs.performLater(TimedJob, { n: 2 }, { accountId: 'acme' });
    const failed = await waitForJobState(jobs, stuck, 'failed', { timeoutMs: 5_000 });
    expect(failed.lastError).toMatchObject({ name: 'JobTimeoutError' });
    expect(failed.lastError?.message).toContain('300');
    await waitForJobState(jobs, next, 'completed', { timeoutMs: 5_000 });
    expect(performed).toEqual(['acme:2']);
  });
});
