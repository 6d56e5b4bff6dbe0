/*
 * Hardening #9, #10, #11, #13 on real PostgreSQL: a caller's mistake at enqueue or in an operation is a
 * typed error naming the field, thrown before anything is sent (so a caller's transaction survives it),
 * never an EnqueueFailedError or a raw DatabaseError; account ids follow one rule; payloads of jobs
 * without a payload class are no longer coerced silently.
 */
import { TestingModule } from '@nestjs/testing';
import { IsString, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { ClsService } from 'nestjs-cls';
import { DataSource } from 'typeorm';
import {
  EnqueueFailedError,
  InvalidAccountIdError,
  InvalidArgumentError,
  InvalidEnqueueOptionsError,
  InvalidPayloadError,
  Job,
  JobHandler,
  JobQueueService,
  MissingTenantError,
} from 'nestjs-tenant-jobs';
import { createTestDatabase, TestDatabase, withClient } from './support/database';
import { createJobsApp } from './support/jobs-app';

const CLS_KEY = 'accountId';

class Node {
  @IsString() name: string;
  @ValidateNested() @Type(() => Node) child?: Node;
}

/** A job with a payload class (class-transformer and class-validator run on its payloads). */
@Job({ name: 'boundary.tree', payload: Node, tenant: 'none' })
class TreeJob implements JobHandler<Node> {
  perform(): void {}
}

/** A tenant job without a payload class: its payload is stored as given, so it must be exact JSON. */
@Job({ name: 'boundary.free' })
class FreeJob implements JobHandler<unknown> {
  perform(payload: unknown): unknown {
    return payload;
  }
}

/** A `{ child: { child: … } }` chain `depth` levels deep. */
function deep(depth: number): Node {
  let node: Node = { name: 'leaf' };
  for (let i = 0; i < depth; i++) node = { name: `n${i}`, child: node };
  return node;
}

describe('the enqueue and operations boundary', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let jobs: JobQueueService;
  let ds: DataSource;
  let cls: ClsService;
  const inCls = <T>(value: unknown, fn: () => Promise<T>) =>
    cls.run(() => {
      cls.set(CLS_KEY, value);
      return fn();
    });
  const rowCount = async () => Number((await ds.query(`select count(*) from jobs.jobs`))[0].count);
  const free = (payload: unknown, options: Parameters<JobQueueService['performLater']>[2] = {}) =>
    jobs.performLater(FreeJob, payload, { accountId: 'acme', ...options });

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      providers: [TreeJob, FreeJob],
      jobs: { tenant: { clsKey: CLS_KEY }, worker: { enabled: false } },
    });
    jobs = app.get(JobQueueService);
    ds = app.get(DataSource);
    cls = app.get(ClsService);
    await ds.query(`create table notes (id serial primary key, text text not null)`);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('#10: unstorable or out-of-range options are InvalidEnqueueOptionsError naming the option', async () => {
    const before = await rowCount();
    const cases: Array<[Parameters<JobQueueService['performLater']>[2], RegExp]> = [
      [{ queue: 'mail\u0000' }, /"queue"/],
      [{ queue: 'mail\ud800' }, /"queue"/],
      [{ uniqueKey: 'key\u0000' }, /"uniqueKey"/],
      [{ uniqueKey: 'k'.repeat(3_000) }, /"uniqueKey"/],
      [{ runAt: new Date(Date.UTC(10000, 0, 1)) }, /"runAt"/],
      [{ runAt: new Date('0000-01-01T00:00:00Z') }, /"runAt"/],
      [{ delayMs: 1e16 }, /"delayMs"/],
      [{ priority: 2 ** 31 }, /"priority"/],
      [{ priority: 1e20 }, /"priority"/],
      [{ maxAttempts: 2 ** 31 }, /"maxAttempts"/],
      [{ oncePerTick: 'cron\u0000' }, /"oncePerTick"/],
    ];
    for (const [options, message] of cases) {
      const error = await free({ n: 1 }, options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidEnqueueOptionsError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).toContain('"boundary.free"');
    }
    expect(await rowCount()).toBe(before);
  });

  it('#10, #13: unstorable or inexact payloads are InvalidPayloadError naming the path', async () => {
    const before = await rowCount();
    const cases: Array<[unknown, string]> = [
      [{ text: 'a\u0000b' }, 'text'],
      [{ list: ['ok', '\udc00'] }, 'list[1]'],
      [{ fn: () => 1 }, 'fn'],
      [{ n: NaN }, 'n'],
      [{ m: new Map([[1, 2]]) }, 'm'],
      [{ big: 1n }, 'big'],
    ];
    for (const [payload, field] of cases) {
      const error = await free(payload).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidPayloadError);
      expect((error as InvalidPayloadError).fields[0].field).toBe(field);
    }
    // In a bulk, the item is named too.
    const bulk = await jobs
      .performAllLater(FreeJob, [
        { payload: { ok: 1 }, accountId: 'acme' },
        { payload: { text: '\u0000' }, accountId: 'acme' },
      ])
      .catch((e: unknown) => e);
    expect((bulk as InvalidPayloadError).fields[0].field).toBe('[1].text');
    expect(await rowCount()).toBe(before);
  });

  it('#10: deep and cyclic payloads of a job with a payload class never reach class-transformer', async () => {
    const cyclic: Node = { name: 'loop' };
    cyclic.child = cyclic;
    for (const payload of [deep(5_000), cyclic]) {
      for (const call of [
        () => jobs.performLater(TreeJob, payload),
        () => jobs.performNow(TreeJob, payload),
        () => jobs.performAllLater(TreeJob, [{ payload: { name: 'ok' } }, { payload }]),
      ]) {
        const error = await call().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(InvalidPayloadError);
      }
    }
    // A large bulk takes the overlapped path (validation while the insert runs): refused all the same.
    const many = Array.from({ length: 150 }, () => ({ payload: { name: 'ok' } as Node }));
    many.push({ payload: deep(5_000) });
    await expect(jobs.performAllLater(TreeJob, many)).rejects.toBeInstanceOf(InvalidPayloadError);
    // A nested payload within the limits still validates as before.
    await expect(jobs.performNow(TreeJob, deep(20))).resolves.toBeUndefined();
  });

  it('#10: a null payload is stored as JSON null, and an undefined property is left out', async () => {
    const id = await free(null);
    expect((await jobs.find(id))?.payload).toBeNull();
    const other = await free({ note: undefined, n: 1 });
    expect((await jobs.find(other))?.payload).toStrictEqual({ n: 1 });
  });

  it("#10: a caller's mistake inside its transaction leaves the transaction usable", async () => {
    const text = `kept ${Date.now()}`;
    await ds.transaction(async (manager) => {
      await manager.query(`insert into notes (text) values ($1)`, [text]);
      const error = await jobs
        .performLater(FreeJob, { text: 'nul \u0000' }, { manager, accountId: 'acme' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidPayloadError);
      const optionError = await jobs
        .performLater(FreeJob, { ok: 1 }, { manager, accountId: 'acme', uniqueKey: '\u0000' })
        .catch((e: unknown) => e);
      expect(optionError).toBeInstanceOf(InvalidEnqueueOptionsError);
      // The transaction was not aborted: it can still enqueue and write.
      await jobs.performLater(FreeJob, { ok: 2 }, { manager, accountId: 'acme' });
    });
    expect(await ds.query(`select count(*)::int as n from notes where text = $1`, [text])).toEqual([
      { n: 1 },
    ]);
  });

  it('#9: account ids are non-blank strings or safe integers, from CLS and given explicitly', async () => {
    // Objects no longer merge tenants: both were "[object Object]".
    for (const value of [{ id: 1 }, { id: 2 }, [1], NaN, true, Symbol('a'), '  ', ' 42', 1.5]) {
      const error = await inCls(value, () => jobs.performLater(FreeJob, { n: 1 })).catch(
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidAccountIdError);
      expect((error as Error).message).toContain(`"${CLS_KEY}"`);
    }
    for (const value of [{ id: 1 }, '', '\t', 'a\u0000', NaN]) {
      const error = await jobs
        .performLater(FreeJob, { n: 1 }, { accountId: value as never })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidAccountIdError);
    }
    const bulk = await jobs
      .performAllLater(FreeJob, [
        { payload: 1, accountId: 'a' },
        { payload: 2, accountId: {} as never },
      ])
      .catch((e: unknown) => e);
    expect((bulk as Error).message).toContain('"[1].accountId"');
    // An empty CLS value is "no account": a tenant job fails closed as before.
    await expect(inCls('', () => jobs.performLater(FreeJob, { n: 1 }))).rejects.toBeInstanceOf(
      MissingTenantError,
    );
    // Numbers are their decimal string, one tenant with the string form.
    const fromCls = await inCls(7, () => jobs.performLater(FreeJob, { n: 1 }));
    const explicit = await jobs.performLater(FreeJob, { n: 1 }, { accountId: 42 as never });
    expect((await jobs.find(fromCls))?.accountId).toBe('7');
    expect((await jobs.find(explicit))?.accountId).toBe('42');
    expect(await inCls(7, () => jobs.find(fromCls))).toMatchObject({ id: fromCls });
  });

  it('#11: ids that cannot name a job are "not found"; bad arguments are InvalidArgumentError', async () => {
    for (const id of ['9223372036854775808', 'abc', '-1', '1e3', '007', ' 7', '']) {
      expect(await jobs.find(id)).toBeNull();
      expect(await jobs.cancel(id)).toBe(false);
      expect(await jobs.retry(id)).toBe(false);
      expect(await jobs.discard(id)).toBe(false);
    }
    const invalid: Array<() => Promise<unknown>> = [
      () => jobs.listFailed({ after: 'abc' }),
      () => jobs.listFailed({ after: '99999999999999999999' }),
      () => jobs.listFailed({ limit: NaN }),
      () => jobs.listFailed({ limit: 0 }),
      () => jobs.listFailed({ limit: 5_000 }),
      () => jobs.listFailed({ queue: 'q\u0000' }),
      () => jobs.listFailed({ name: '' }),
      () => jobs.purge({ olderThanMs: NaN }),
      () => jobs.purge({ olderThanMs: -1 }),
      () => jobs.purge({ olderThanMs: 1e16 }),
      () => jobs.purge({ olderThanMs: 0, states: ['running' as never] }),
    ];
    for (const call of invalid) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
    }
    await expect(jobs.listFailed({ accountId: { id: 1 } as never })).rejects.toBeInstanceOf(
      InvalidAccountIdError,
    );
  });
});

describe('bounded waits on the enqueue side (#7)', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let jobs: JobQueueService;
  const LOCK_TIMEOUT_MS = 300;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      providers: [TreeJob],
      jobs: { worker: { enabled: false }, database: { lockTimeoutMs: LOCK_TIMEOUT_MS } },
    });
    jobs = app.get(JobQueueService);
    await jobs.performLater(TreeJob, { name: 'warm-up' }); // the pool's first connection
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('an enqueue blocked by a lock on jobs.jobs fails within lockTimeoutMs with a retryable EnqueueFailedError', async () => {
    await withClient(db.url, async (locker) => {
      await locker.query('begin');
      await locker.query('lock table jobs.jobs in access exclusive mode');
      const started = Date.now();
      const error = await jobs.performLater(TreeJob, { name: 'blocked' }).catch((e: unknown) => e);
      const waited = Date.now() - started;
      await locker.query('rollback');
      expect(error).toBeInstanceOf(EnqueueFailedError);
      expect((error as EnqueueFailedError).retryable).toBe(true);
      expect(waited).toBeGreaterThanOrEqual(LOCK_TIMEOUT_MS - 50);
      expect(waited).toBeLessThan(LOCK_TIMEOUT_MS + 2_000);
    });
    // Once the lock is gone the same enqueue goes through: retrying was the right call.
    await expect(jobs.performLater(TreeJob, { name: 'after' })).resolves.toMatch(/^\d+$/);
  });
});
