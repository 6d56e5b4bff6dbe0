import { TestingModule } from '@nestjs/testing';
import { IsInt, IsOptional, IsString } from 'class-validator';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import {
  DiscardJobError,
  EnqueueFailedError,
  InvalidPayloadError,
  Job,
  JobContext,
  JobHandler,
  JobQueueService,
  JobWorker,
} from 'nestjs-tenant-jobs';
import { createTestDatabase, TestDatabase, withClient } from './support/database';
import { waitFor } from './support/wait-for';
import { createJobsApp } from './support/jobs-app';
import { waitForJobState } from './support/jobs';

class TransientError extends Error {}
class FatalError extends Error {}

class StepPayload {
  @IsString() mode: string;
  @IsOptional() @IsInt() failUntil?: number;
  @IsOptional() @IsString() data?: string;
}

const attempts = new Map<string, number[]>();
const aborted = new Map<string, unknown>();
const lateOutcomes: string[] = [];

@Job({
  name: 'step',
  payload: StepPayload,
  tenant: 'none',
  maxAttempts: 3,
  backoff: { type: 'fixed', baseMs: 50, jitter: 0 },
})
class StepJob implements JobHandler<StepPayload, string> {
  async perform(payload: StepPayload, ctx: JobContext): Promise<string> {
    attempts.set(ctx.id, [...(attempts.get(ctx.id) ?? []), Date.now()]);
    switch (payload.mode) {
      case 'flaky':
        if (ctx.attempt < (payload.failUntil ?? 0))
          throw new TransientError(`attempt ${ctx.attempt} failed`);
        return `ok after ${ctx.attempt}`;
      case 'always':
        throw new TransientError(`attempt ${ctx.attempt} failed`);
      case 'discard':
        throw new DiscardJobError('the order is gone');
      case 'unserialisable':
        return 1n as unknown as string; // JSON cannot hold a bigint
      case 'snooze':
        if ((attempts.get(ctx.id) ?? []).length < 3) return ctx.snooze(50);
        return 'woke up';
      case 'hang-politely':
        return new Promise((_, reject) =>
          ctx.signal.addEventListener('abort', () => {
            aborted.set(ctx.id, ctx.signal.reason);
            reject(ctx.signal.reason);
          }),
        );
      default:
        return 'done';
    }
  }
}

@Job({
  name: 'selective',
  payload: StepPayload,
  tenant: 'none',
  maxAttempts: 5,
  retryOn: [TransientError],
  discardOn: [FatalError],
  backoff: { type: 'fixed', baseMs: 10, jitter: 0 },
})
class SelectiveJob implements JobHandler<StepPayload> {
  perform(payload: StepPayload): void {
    if (payload.mode === 'fatal') throw new FatalError('fatal');
    if (payload.mode === 'type') throw new TypeError('not in retryOn');
    throw new TransientError('transient');
  }
}

/** Ignores its signal entirely: the worker must free the slot anyway and drop its late outcome. */
@Job({
  name: 'stubborn',
  payload: StepPayload,
  tenant: 'none',
  maxAttempts: 2,
  timeoutMs: 100,
  backoff: { type: 'fixed', baseMs: 0, jitter: 0 },
})
class StubbornJob implements JobHandler<StepPayload, string> {
  static readonly release = new AbortController();
  async perform(_: StepPayload, ctx: JobContext): Promise<string> {
    attempts.set(ctx.id, [...(attempts.get(ctx.id) ?? []), Date.now()]);
    await new Promise((resolve) => StubbornJob.release.signal.addEventListener('abort', resolve));
    lateOutcomes.push(ctx.id);
    return 'too late';
  }
}

describe('failure semantics', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let jobs: JobQueueService;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      providers: [StepJob, SelectiveJob, StubbornJob],
      jobs: { worker: { concurrency: 2, prefetch: 0 }, maxPayloadBytes: 1_024 },
    });
    jobs = app.get(JobQueueService);
  });

  afterAll(async () => {
    StubbornJob.release.abort();
    await app?.close();
    await db?.drop();
  });

  it('retries with backoff until an attempt succeeds', async () => {
    const id = await jobs.performLater(StepJob, { mode: 'flaky', failUntil: 3 });
    const job = await waitForJobState(jobs, id, 'completed');
    expect(job.attempts).toBe(3);
    expect(job.result).toBe('ok after 3');
    expect(job.errors.map((e) => [e.attempt, e.name])).toEqual([
      [1, 'TransientError'],
      [2, 'TransientError'],
    ]);
    const [first, second, third] = attempts.get(id)!;
    expect(second - first).toBeGreaterThanOrEqual(50);
    expect(third - second).toBeGreaterThanOrEqual(50);
  });

  it('ends failed after maxAttempts, with every error kept', async () => {
    const id = await jobs.performLater(StepJob, { mode: 'always' });
    const job = await waitForJobState(jobs, id, 'failed');
    expect(job.attempts).toBe(3);
    expect(job.errors).toHaveLength(3);
    expect(job.lastError).toMatchObject({
      attempt: 3,
      name: 'TransientError',
      message: 'attempt 3 failed',
    });
    expect(job.finishedAt).not.toBeNull();
  });

  it('fails at once on DiscardJobError, discardOn errors, and errors outside retryOn', async () => {
    const discard = await jobs.performLater(StepJob, { mode: 'discard' });
    const fatal = await jobs.performLater(SelectiveJob, { mode: 'fatal' });
    const other = await jobs.performLater(SelectiveJob, { mode: 'type' });
    const retried = await jobs.performLater(SelectiveJob, { mode: 'transient' });
    for (const id of [discard, fatal, other])
      expect((await waitForJobState(jobs, id, 'failed')).attempts).toBe(1);
    expect((await waitForJobState(jobs, retried, 'failed')).attempts).toBe(5);
  });

  it('completes a job whose return value JSON cannot hold, once, without a result', async () => {
    const id = await jobs.performLater(StepJob, { mode: 'unserialisable' });
    const job = await waitForJobState(jobs, id, 'completed');
    expect(job).toMatchObject({ attempts: 1, result: null, errors: [] });
    expect(attempts.get(id)).toHaveLength(1);
  });

  it('snoozes without counting an attempt', async () => {
    const id = await jobs.performLater(StepJob, { mode: 'snooze' });
    const job = await waitForJobState(jobs, id, 'completed');
    expect(attempts.get(id)).toHaveLength(3);
    expect(job.attempts).toBe(1);
    expect(job.errors).toEqual([]);
    expect(job.result).toBe('woke up');
  });

  it('times out an attempt that ignores its signal, frees the slot, and drops its late outcome', async () => {
    const id = await jobs.performLater(StubbornJob, { mode: 'x' });
    const job = await waitForJobState(jobs, id, 'failed');
    expect(job.attempts).toBe(2);
    expect(job.errors.map((e) => e.name)).toEqual(['JobTimeoutError', 'JobTimeoutError']);
    // Both attempts still hang, yet the 2-slot worker keeps serving other jobs.
    const next = await jobs.performLater(StepJob, { mode: 'ok' });
    await waitForJobState(jobs, next, 'completed');
    StubbornJob.release.abort();
    await waitFor(() => lateOutcomes.filter((x) => x === id).length === 2);
    const after = await jobs.find(id);
    expect(after).toMatchObject({ state: 'failed', result: null });
  });

  it('cancels a running job: its signal aborts and it ends cancelled', async () => {
    const id = await jobs.performLater(StepJob, { mode: 'hang-politely' });
    await waitForJobState(jobs, id, 'running');
    expect(await jobs.cancel(id)).toBe(true);
    await waitFor(() => aborted.has(id));
    expect((aborted.get(id) as Error).name).toBe('JobCancelledError');
    const job = await waitForJobState(jobs, id, 'cancelled');
    expect(job.errors).toEqual([]);
    expect(await jobs.cancel(id)).toBe(false);
  });

  it('rejects a payload over maxPayloadBytes at enqueue, writing nothing', async () => {
    const before = await jobs.countByState();
    const error = await jobs
      .performLater(StepJob, { mode: 'ok', data: 'x'.repeat(2_000) })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect((error as Error).message).toMatch(/over the 1024-byte limit \(maxPayloadBytes\)/);
    expect(await jobs.countByState()).toEqual(before);
  });

  it('lists failed jobs with their errors, filtered and paginated; retries and discards them', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push(await jobs.performLater(StepJob, { mode: 'discard' }, { queue: 'ops' }));
    for (const id of ids) await waitForJobState(jobs, id, 'failed');
    const page1 = await jobs.listFailed({ queue: 'ops', limit: 2 });
    expect(page1.jobs.map((j) => j.id)).toEqual([ids[2], ids[1]]);
    expect(page1.jobs[0].lastError?.message).toBe('the order is gone');
    const page2 = await jobs.listFailed({ queue: 'ops', limit: 2, after: page1.nextCursor! });
    expect(page2).toEqual({ jobs: [expect.objectContaining({ id: ids[0] })], nextCursor: null });
    expect(
      (await jobs.listFailed({ name: 'selective' })).jobs.every((j) => j.name === 'selective'),
    ).toBe(true);
    expect((await jobs.listFailed({ queue: 'ops', accountId: 'nobody' })).jobs).toEqual([]);

    expect(await jobs.discard(ids[0])).toBe(true);
    expect(await jobs.find(ids[0])).toBeNull();
    expect(await jobs.retry(ids[1])).toBe(true);
    const retried = await waitForJobState(jobs, ids[1], 'failed');
    expect(retried.attempts).toBe(2);
    expect(retried.errors).toHaveLength(2);
    expect(
      await jobs.retry(await jobs.performLater(StepJob, { mode: 'ok' }, { delayMs: 60_000 })),
    ).toBe(false);
  });

  it('refuses clearly to retry a failed job whose uniqueKey another unfinished job now holds', async () => {
    const failed = await jobs.performLater(
      StepJob,
      { mode: 'discard' },
      { uniqueKey: 'nightly-export' },
    );
    await waitForJobState(jobs, failed, 'failed');
    const holder = await jobs.performLater(
      StepJob,
      { mode: 'ok' },
      { uniqueKey: 'nightly-export', delayMs: 60_000 },
    );
    await expect(jobs.retry(failed)).rejects.toThrow(/cannot be retried: its uniqueKey is held/);
    expect((await jobs.find(failed))?.state).toBe('failed');
    await jobs.cancel(holder);
    expect(await jobs.retry(failed)).toBe(true);
  });

  it('purges finished jobs older than a given age', async () => {
    const id = await jobs.performLater(StepJob, { mode: 'ok' });
    await waitForJobState(jobs, id, 'completed');
    const ds = app.get(DataSource);
    await ds.query(`update jobs.jobs set finished_at = now() - interval '2 hours' where id = $1`, [
      id,
    ]);
    expect(await jobs.purge({ olderThanMs: 3_600_000, states: ['completed'] })).toBe(1);
    expect(await jobs.find(id)).toBeNull();
  });
});

describe('retention', () => {
  it('the worker deletes finished jobs past their retention on its schedule', async () => {
    const db = await createTestDatabase();
    const app = await createJobsApp({
      url: db.url,
      providers: [StepJob],
      jobs: { retention: { completedMs: 60_000, failedMs: 3_600_000, intervalMs: 100 } },
    });
    try {
      const jobs = app.get(JobQueueService);
      const [oldDone, freshDone, oldFailed] = await jobs.performAllLater(StepJob, [
        { payload: { mode: 'ok' } },
        { payload: { mode: 'ok' } },
        { payload: { mode: 'discard' } },
      ]);
      const ds = app.get(DataSource);
      await waitFor(
        async () =>
          (await ds.query(`select 1 from jobs.jobs where finished_at is null`)).length === 0,
      );
      await ds.query(
        `update jobs.jobs set finished_at = now() - interval '2 minutes' where id in ($1, $2)`,
        [oldDone, oldFailed],
      );
      await waitFor(async () => (await jobs.find(oldDone)) === null, {
        message: 'old completed job swept',
      });
      expect(await jobs.find(freshDone)).not.toBeNull();
      expect(await jobs.find(oldFailed)).not.toBeNull(); // failed jobs are kept longer
    } finally {
      await app.close();
      await db.drop();
    }
  });
});

describe('database outage', () => {
  it('enqueue fails with EnqueueFailedError while the database refuses connections, and the worker recovers', async () => {
    const db = await createTestDatabase();
    const app = await createJobsApp({ url: db.url, providers: [StepJob] });
    const admin = new Client({ connectionString: process.env.DATABASE_URL });
    await admin.connect();
    const ident = admin.escapeIdentifier(db.name);
    try {
      const jobs = app.get(JobQueueService);
      const before = await jobs.performLater(StepJob, { mode: 'ok' }, { delayMs: 300 });
      await admin.query(`alter database ${ident} allow_connections false`);
      await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity where datname = $1`,
        [db.name],
      );
      const error = await jobs.performLater(StepJob, { mode: 'ok' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(EnqueueFailedError);
      expect((error as Error).message).toMatch(
        /Could not enqueue job "step".*Nothing was enqueued/,
      );
      await admin.query(`alter database ${ident} allow_connections true`);
      const after = await waitFor(() =>
        jobs.performLater(StepJob, { mode: 'ok' }).catch(() => undefined),
      );
      for (const id of [before, after]) {
        await waitForJobState(jobs, id, 'completed', { timeoutMs: 20_000 });
      }
      const counts = await jobs.countByState();
      expect(counts).toEqual([{ queue: 'default', state: 'completed', count: 2, paused: false }]);
    } finally {
      await admin.query(`alter database ${ident} allow_connections true`);
      await admin.end();
      await app.close();
      await db.drop();
    }
  });
});

/** Returns what its mode names: values PostgreSQL's jsonb cannot hold as they are, or a plain one. */
@Job({ name: 'poison', payload: StepPayload, tenant: 'none', maxAttempts: 1 })
class PoisonResultJob implements JobHandler<StepPayload> {
  perform({ mode }: StepPayload): unknown {
    if (mode === 'nul') return 'a\u0000b';
    if (mode === 'surrogate') return { text: '\ud800' };
    return 'fine';
  }
}

describe('results PostgreSQL cannot store as they are', () => {
  it('complete with U+FFFD in place of NUL and lone surrogates; the rest of the batch completes; nothing stays running', async () => {
    const db = await createTestDatabase();
    const app = await createJobsApp({
      url: db.url,
      providers: [PoisonResultJob],
      jobs: { worker: { concurrency: 10, enabled: false } },
    });
    let closed = false;
    try {
      const jobs = app.get(JobQueueService);
      const modes = ['ok', 'nul', 'ok', 'surrogate', 'ok', 'ok'];
      const ids = await jobs.performAllLater(
        PoisonResultJob,
        modes.map((mode) => ({ payload: { mode } })),
      );
      await app.get(JobWorker).start(); // all claimed at once: their completions share a batch
      const done = await Promise.all(ids.map((id) => waitForJobState(jobs, id, 'completed')));
      expect(done.map((j) => j.result)).toEqual([
        'fine',
        'a\uFFFDb',
        'fine',
        { text: '\uFFFD' },
        'fine',
        'fine',
      ]);
      expect(done.every((j) => j.attempts === 1 && j.errors.length === 0)).toBe(true);
      await app.close();
      closed = true;
      const { rows } = await withClient(db.url, (c) =>
        c.query(`select count(*)::int as n from jobs.jobs where state = 'running'`),
      );
      expect(rows[0].n).toBe(0);
    } finally {
      if (!closed) await app.close();
      await db.drop();
    }
  }, 20_000);
});

/** Attempts of HostileJob by job id (its suite has a database of its own, so ids start over). */
const hostileAttempts = new Map<string, number>();

/** Fails in ways that used to leave the attempt unrecorded (running a whole lease, then re-run). */
@Job({
  name: 'hostile',
  payload: StepPayload,
  tenant: 'none',
  maxAttempts: 2,
  backoff: { type: 'fixed', baseMs: 10, jitter: 0 },
})
class HostileJob implements JobHandler<StepPayload> {
  perform({ mode }: StepPayload, ctx: JobContext): unknown {
    hostileAttempts.set(ctx.id, (hostileAttempts.get(ctx.id) ?? 0) + 1);
    switch (mode) {
      case 'nul-message':
        return JSON.parse('\u0000'); // a SyntaxError whose message holds a NUL
      case 'surrogate-message':
        throw new Error('half a character: \udc00');
      case 'message-getter': {
        const error = new TransientError('unreadable');
        Object.defineProperty(error, 'message', {
          get() {
            throw new Error('getter');
          },
        });
        throw error;
      }
      case 'proxy':
        throw new Proxy(
          {},
          {
            get() {
              throw new Error('trap');
            },
            getPrototypeOf() {
              throw new Error('trap');
            },
          },
        );
      case 'snooze-nan':
        return ctx.snooze(NaN);
      case 'snooze-infinity':
        return ctx.snooze(Infinity);
      case 'snooze-huge':
        return ctx.snooze(1e300);
      default:
        throw new DiscardJobError('discarded');
    }
  }
}

describe('outcomes that used to be lost', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let jobs: JobQueueService;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({ url: db.url, providers: [HostileJob] });
    jobs = app.get(JobQueueService);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it.each([
    ['nul-message', 'SyntaxError', /is not valid JSON/],
    ['surrogate-message', 'Error', /^half a character: \uFFFD$/],
    ['message-getter', 'TransientError', /could not be read/],
    ['proxy', 'Error', /could not be inspected/],
    ['snooze-nan', 'InvalidSnoozeError', /ctx\.snooze\(NaN\)/],
    ['snooze-infinity', 'InvalidSnoozeError', /ctx\.snooze\(Infinity\)/],
    ['snooze-huge', 'InvalidSnoozeError', /ctx\.snooze\(1e\+300\)/],
  ])(
    '%s: each attempt is recorded with its real error, and retried as usual',
    async (mode, name, message) => {
      const id = await jobs.performLater(HostileJob, { mode });
      const job = await waitForJobState(jobs, id, 'failed');
      expect(job.attempts).toBe(2);
      expect(job.errors.map((e) => e.name)).toEqual([name, name]);
      expect(job.lastError!.message).toMatch(message);
      expect(hostileAttempts.get(id)).toBe(2);
    },
  );

  it('a DiscardJobError fails at once, after one attempt', async () => {
    const id = await jobs.performLater(HostileJob, { mode: 'discard' });
    const job = await waitForJobState(jobs, id, 'failed');
    expect(job).toMatchObject({ attempts: 1, lastError: { name: 'DiscardJobError' } });
    expect(hostileAttempts.get(id)).toBe(1);
  });
});

describe('size caps of results and error texts (issue 13, finding 13)', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let jobs: JobQueueService;

  @Job({
    name: 'oversized',
    tenant: 'none',
    maxAttempts: 2,
    backoff: { type: 'fixed', baseMs: 10 },
  })
  class OversizedJob implements JobHandler<{ mode: string }> {
    perform(payload: { mode: string }): unknown {
      if (payload.mode === 'result') return { blob: 'r'.repeat(2_000_000), kept: false };
      if (payload.mode === 'small') return { kept: true };
      throw new Error(`${'m'.repeat(10 * 1024 * 1024)} end`);
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      providers: [OversizedJob],
      jobs: { limits: { maxResultBytes: 1_000 } },
    });
    jobs = app.get(JobQueueService);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('a 10 MB error message is stored cut to maxErrorMessageBytes, with the marker, in lastError and every errors entry', async () => {
    const id = await jobs.performLater(OversizedJob, { mode: 'error' });
    const job = await waitForJobState(jobs, id, 'failed');
    expect(job.attempts).toBe(2);
    for (const record of [job.lastError!, ...job.errors]) {
      expect(Buffer.byteLength(record.message)).toBeLessThanOrEqual(8_192);
      expect(record.message).toMatch(/^m+… \[truncated \d+ bytes\]$/);
    }
    expect(job.errors).toHaveLength(2);
    // The whole row stays small: two messages of 8 KB, not 20 MB.
    const [{ bytes }] = await app
      .get(DataSource)
      .query(
        'select pg_column_size(last_error) + pg_column_size(errors) as bytes from jobs.jobs where id = $1',
        [id],
      );
    expect(Number(bytes)).toBeLessThan(64 * 1024);
  });

  it('a result over maxResultBytes is replaced by a marker saying so, and the job still completes', async () => {
    const id = await jobs.performLater(OversizedJob, { mode: 'result' });
    const job = await waitForJobState(jobs, id, 'completed');
    expect(job.attempts).toBe(1);
    expect(job.errors).toEqual([]);
    expect(typeof job.result).toBe('string');
    expect(job.result).toMatch(
      /^\[not stored: it is \d+ bytes of JSON, over the 1000-byte limit \(limits\.maxResultBytes\)/,
    );
    // A result within the cap is stored as it was.
    const small = await jobs.performLater(OversizedJob, { mode: 'small' });
    expect((await waitForJobState(jobs, small, 'completed')).result).toEqual({ kept: true });
  });
});
