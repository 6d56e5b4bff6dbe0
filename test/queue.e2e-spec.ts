import { TestingModule } from '@nestjs/testing';
import { IsInt, IsString, Min } from 'class-validator';
import {
  EnqueueFailedError,
  InvalidEnqueueOptionsError,
  InvalidPayloadError,
  Job,
  JobContext,
  JobHandler,
  JobQueueService,
  MissingTenantError,
} from 'nestjs-tenant-jobs';
import { createTestDatabase, TestDatabase, withClient } from './support/database';
import { createJobsApp } from './support/jobs-app';
import { waitForJobState } from './support/jobs';

class AddPayload {
  @IsInt() a: number;
  @IsInt() @Min(0) b: number;
}

const performed: Array<{ id: string; payload: unknown }> = [];

@Job({ name: 'math.add', payload: AddPayload, tenant: 'none' })
class AddJob implements JobHandler<AddPayload, number> {
  perform(payload: AddPayload, ctx: JobContext): number {
    performed.push({ id: ctx.id, payload });
    return payload.a + payload.b;
  }
}

class GreetPayload {
  @IsString() name: string;
}

@Job({ name: 'greet', payload: GreetPayload, tenant: 'none', maxAttempts: 1 })
class FailingJob implements JobHandler<GreetPayload> {
  perform(payload: GreetPayload): void {
    throw new Error(`cannot greet ${payload.name}`);
  }
}

describe('JobQueueService against PostgreSQL', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let jobs: JobQueueService;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({ url: db.url, providers: [AddJob, FailingJob] });
    jobs = app.get(JobQueueService);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('performs an enqueued job and records its result and timings', async () => {
    const id = await jobs.performLater(AddJob, { a: 2, b: 3 });
    const job = await waitForJobState(jobs, id, 'completed');
    expect(job.result).toBe(5);
    expect(job.attempts).toBe(1);
    expect(job.durationMs).toBeGreaterThanOrEqual(0);
    expect(performed.find((p) => p.id === id)?.payload).toBeInstanceOf(AddPayload);
  });

  it('records the failure message and stack of a failed job', async () => {
    const id = await jobs.performLater(FailingJob, { name: 'Ada' });
    const job = await waitForJobState(jobs, id, 'failed');
    expect(job.lastError?.message).toBe('cannot greet Ada');
    expect(job.lastError?.stack).toContain('FailingJob');
  });

  it('rejects an invalid payload with the job name and every failing field, writing nothing', async () => {
    const before = await jobs.countByState();
    const error = await jobs
      .performLater(AddJob, { a: 'x', b: -1 } as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect((error as InvalidPayloadError).message).toContain('"math.add"');
    expect((error as InvalidPayloadError).fields.map((f) => f.field)).toEqual(['a', 'b']);
    expect(await jobs.countByState()).toEqual(before);
  });

  it('rejects invalid enqueue options with the job and option named, writing nothing', async () => {
    const before = await jobs.countByState();
    const cases: Array<[Parameters<JobQueueService['performLater']>[2], RegExp]> = [
      [{ runAt: new Date('not a date') }, /"runAt" for job "math.add": must be a valid Date/],
      [{ delayMs: -5 }, /"delayMs" .*non-negative/],
      [{ priority: 1.5 }, /"priority" .*integer/],
      [{ maxAttempts: 0 }, /"maxAttempts" .*positive integer/],
      [{ queue: '' }, /"queue" .*non-empty/],
    ];
    for (const [options, message] of cases) {
      const error = await jobs
        .performLater(AddJob, { a: 1, b: 1 }, options)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidEnqueueOptionsError);
      expect((error as Error).message).toMatch(message);
    }
    await expect(
      jobs.performAllLater(AddJob, [
        { payload: { a: 1, b: 1 } },
        { payload: { a: 1, b: 1 }, delayMs: NaN },
      ]),
    ).rejects.toThrow(/"\[1\]\.delayMs"/);
    expect(await jobs.countByState()).toEqual(before);
  });
});

/** A tenant-scoped job, for the bulk tests below. */
@Job({ name: 'bulk.add', payload: AddPayload })
class AccountAddJob implements JobHandler<AddPayload> {
  perform(): void {}
}

describe('a bulk enqueue of hundreds of jobs (payloads validated while the insert runs)', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let jobs: JobQueueService;

  const rowCount = () =>
    withClient(db.url, async (c) => {
      const { rows } = await c.query<{ n: number }>('select count(*)::int as n from jobs.jobs');
      return rows[0].n;
    });
  const adds = (count: number, change: (n: number) => Partial<AddPayload> = () => ({})) =>
    Array.from({ length: count }, (_, n) => ({ payload: { a: n, b: 0, ...change(n) } }));

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      providers: [AddJob, AccountAddJob],
      jobs: { tenant: { clsKey: 'accountId' }, worker: { enabled: false } },
    });
    jobs = app.get(JobQueueService);
    // The database refuses any row whose payload has a = -999: a failure the insert meets mid-batch.
    await withClient(db.url, async (c) => {
      await c.query(`
        create function jobs.refuse_minus_999() returns trigger language plpgsql as $$
        begin
          if (new.payload->>'a')::int = -999 then raise exception 'refused by a trigger'; end if;
          return new;
        end $$`);
      await c.query(`
        create trigger refuse before insert on jobs.jobs
        for each row execute function jobs.refuse_minus_999()`);
    });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('writes every job and returns their ids in item order', async () => {
    const ids = await jobs.performAllLater(AddJob, adds(500));
    expect(new Set(ids).size).toBe(500);
    const stored = await withClient(db.url, async (c) => {
      const { rows } = await c.query<{ id: string; a: number }>(
        `select id::text as id, (payload->>'a')::int as a from jobs.jobs where id = any($1::bigint[])`,
        [ids],
      );
      return new Map(rows.map((r) => [r.id, r.a]));
    });
    expect(ids.map((id) => stored.get(id))).toEqual([...Array(500).keys()]);
  });

  it('writes nothing when one payload is invalid, and names the item and field', async () => {
    const before = await rowCount();
    const error = await jobs
      .performAllLater(
        AddJob,
        adds(500, (n) => (n === 317 ? { b: -1 } : {})),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect((error as InvalidPayloadError).fields.map((f) => f.field)).toEqual(['[317].b']);
    expect(await rowCount()).toBe(before);
  });

  it('writes nothing when one item has no account', async () => {
    const before = await rowCount();
    const items = adds(300).map((item, n) => ({
      ...item,
      accountId: n === 250 ? undefined : `acct-${n % 3}`,
    }));
    await expect(jobs.performAllLater(AccountAddJob, items)).rejects.toBeInstanceOf(
      MissingTenantError,
    );
    expect(await rowCount()).toBe(before);
  });

  it('rolls back every row when the database refuses one, with EnqueueFailedError', async () => {
    const before = await rowCount();
    const error = await jobs
      .performAllLater(
        AddJob,
        adds(400, (n) => (n === 123 ? { a: -999 } : {})),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EnqueueFailedError);
    expect((error as Error).message).toContain('refused by a trigger');
    expect(await rowCount()).toBe(before);
  });

  it('reports an invalid payload rather than the database error when both happen', async () => {
    const before = await rowCount();
    const items = adds(400, (n) => (n === 10 ? { b: -1 } : n === 20 ? { a: -999 } : {}));
    await expect(jobs.performAllLater(AddJob, items)).rejects.toBeInstanceOf(InvalidPayloadError);
    expect(await rowCount()).toBe(before);
  });

  it("gives an item whose unique key an unfinished job holds that job's id", async () => {
    const holder = await jobs.performLater(AddJob, { a: 1, b: 1 }, { uniqueKey: 'bulk-5' });
    const before = await rowCount();
    const items = adds(150).map((item, n) => ({ ...item, uniqueKey: `bulk-${n}` }));
    const ids = await jobs.performAllLater(AddJob, items);
    expect(ids[5]).toBe(holder);
    expect(new Set(ids).size).toBe(150);
    expect(await rowCount()).toBe(before + 149);
  });
});
