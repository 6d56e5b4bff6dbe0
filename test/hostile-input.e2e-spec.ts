/*
 * Property-style test of issue 13 ("one boundary, typed errors"): random strings (NUL, lone surrogates,
 * emoji, 10 KB) and random numbers through every enqueue option, the payload, the operations' arguments,
 * and, through a real worker, the job's result and error. Each call either throws a typed JobsError
 * (never EnqueueFailedError, never a raw database or RangeError) or round-trips exactly; every job a
 * worker receives finishes (no stuck worker). Seeded and bounded: replay a failure with
 * `VALUES_SEED=<seed> npm test -- hostile-input`.
 */
import { TestingModule } from '@nestjs/testing';
import { ClsService } from 'nestjs-cls';
import {
  EnqueueFailedError,
  EnqueueOptions,
  Job,
  JobContext,
  JobHandler,
  JobQueueService,
  JobRecord,
  JobsError,
} from 'nestjs-tenant-jobs';
import { checkStorableText, normalizeAccountId, toStorableJson } from 'nestjs-tenant-jobs/values';
import {
  below,
  randomJsonish,
  randomNumber,
  randomString,
  randomUnknown,
  Random,
  seededRandom,
  VALUES_SEED,
  withSeedAsync,
} from 'nestjs-tenant-jobs/values/value-samples.spec-helper';
import { createTestDatabase, TestDatabase } from './support/database';
import { createJobsApp } from './support/jobs-app';
import { waitFor } from './support/wait-for';

const CLS_KEY = 'accountId';
const ENQUEUES = 250;
const WORKER_JOBS = 60;

/** A tenant job that stores whatever payload it is given. */
@Job({ name: 'hostile.store', maxAttempts: 1 })
class StoreJob implements JobHandler<unknown> {
  perform(): void {}
}

/** What `EchoJob` makes of its (storable) payload: hostile text built from char codes. */
interface EchoPayload {
  codes: number[];
  mode: 'return' | 'throw' | 'nested';
}

const textOf = (codes: number[]) => String.fromCharCode(...codes);

/** Returns or throws text the payload could not carry itself (NUL, lone surrogates: built from codes). */
@Job({ name: 'hostile.echo', tenant: 'none', maxAttempts: 1 })
class EchoJob implements JobHandler<EchoPayload, unknown> {
  perform({ codes, mode }: EchoPayload, _ctx: JobContext): unknown {
    const text = textOf(codes);
    if (mode === 'throw') throw new Error(text);
    return mode === 'nested' ? { text, list: [text, 1] } : text;
  }
}

/** Char codes of a random string: NUL, surrogates, emoji, long runs (see `randomString`). */
function randomCodes(random: Random): number[] {
  const text = randomString(random).slice(0, 2_000);
  return Array.from(text, (_c, i) => text.charCodeAt(i)).slice(0, text.length);
}

/** Random enqueue options: each option present about a third of the time, with a hostile value. */
function randomOptions(random: Random): EnqueueOptions {
  const options: Record<string, unknown> = {};
  const value = (kind: 'string' | 'number') =>
    below(random, 3) === 0
      ? randomUnknown(random)
      : kind === 'string'
        ? randomString(random)
        : randomNumber(random);
  if (below(random, 3) === 0) options.queue = value('string');
  if (below(random, 3) === 0) options.uniqueKey = value('string');
  if (below(random, 3) === 0) options.priority = value('number');
  if (below(random, 3) === 0) options.maxAttempts = value('number');
  if (below(random, 3) === 0) options.delayMs = value('number');
  if (below(random, 4) === 0) options.runAt = new Date(randomNumber(random));
  options.accountId = below(random, 4) === 0 ? value('string') : `acc-${below(random, 5)}`;
  return options as EnqueueOptions;
}

/** A caller's mistake is a JobsError, and never one that blames the database. */
function expectTypedRefusal(error: unknown, what: string): void {
  if (!(error instanceof JobsError) || error instanceof EnqueueFailedError) {
    throw new Error(`${what}: expected a typed JobsError, got ${String(error)}`, { cause: error });
  }
}

describe('hostile input through the queue and a real worker', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let jobs: JobQueueService;
  let cls: ClsService;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      providers: [StoreJob, EchoJob],
      // The worker serves only the echo queue: stored jobs stay as enqueued, to be compared.
      jobs: { tenant: { clsKey: CLS_KEY }, worker: { concurrency: 4, queues: ['echo'] } },
    });
    jobs = app.get(JobQueueService);
    cls = app.get(ClsService);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('enqueue options and payloads: a typed error or an exact round-trip', async () => {
    const random = seededRandom(VALUES_SEED);
    await withSeedAsync(VALUES_SEED, async () => {
      const seen = new Set<string>();
      for (let i = 0; i < ENQUEUES; i++) {
        const payload = randomJsonish(random);
        const options = randomOptions(random);
        // Half the calls take their account from CLS instead (hostile values there too).
        const fromCls = below(random, 2) === 0;
        const { accountId, ...rest } = options;
        const enqueue = () => jobs.performLater(StoreJob, payload, fromCls ? rest : options);
        let id: string;
        try {
          id = fromCls
            ? await cls.run(() => {
                cls.set(CLS_KEY, accountId);
                return enqueue();
              })
            : await enqueue();
        } catch (error) {
          expectTypedRefusal(error, `enqueue #${i}`);
          continue;
        }
        // A repeated uniqueKey returns the holder's id: that job carries the first payload.
        if (seen.has(id)) continue;
        seen.add(id);
        const job = (await jobs.find(id, { allAccounts: true })) as JobRecord;
        // Exactly what strict JSON promised: JSON.parse of its text (Dates as ISO strings).
        const json = toStorableJson(payload, {
          mode: 'strict',
          maxBytes: 262_144,
          allowUndefinedProperties: true,
        }).json;
        expect(json).toBeDefined();
        expect(job.payload).toStrictEqual(JSON.parse(json as string));
        expect(job.accountId).toBe(normalizeAccountId(accountId, { from: 'option' }));
        if (options.queue !== undefined) expect(job.queue).toBe(options.queue);
        // `+ 0`: a -0 priority is stored as 0, the same number.
        if (options.priority !== undefined) expect(job.priority).toBe(options.priority + 0);
        if (options.maxAttempts !== undefined) expect(job.maxAttempts).toBe(options.maxAttempts);
        if (options.uniqueKey !== undefined) expect(job.uniqueKey).toBe(options.uniqueKey);
      }
      // The generator is not so hostile that nothing ever gets through.
      expect(seen.size).toBeGreaterThan(10);
    });
  });

  it("operations' arguments: a typed error or an answer, never a raw database error", async () => {
    const random = seededRandom(VALUES_SEED + 1);
    await withSeedAsync(VALUES_SEED + 1, async () => {
      for (let i = 0; i < 100; i++) {
        const id = randomUnknown(random) as string;
        const calls: Array<() => Promise<unknown>> = [
          () => jobs.find(id),
          () => jobs.cancel(id),
          () => jobs.retry(id),
          () => jobs.discard(id),
          () =>
            jobs.listFailed({
              after: below(random, 2) ? (randomUnknown(random) as string) : undefined,
              limit: below(random, 2) ? randomNumber(random) : undefined,
              queue: below(random, 2) ? randomString(random) : undefined,
            }),
          () => jobs.purge({ olderThanMs: randomNumber(random), states: ['cancelled'] }),
          () => jobs.countByState({ accountId: randomUnknown(random) as string }),
        ];
        for (const call of calls) {
          await call().catch((error: unknown) => expectTypedRefusal(error, `operation #${i}`));
        }
      }
    });
  });

  it('results and errors with hostile text: every job finishes, storable text round-trips exactly', async () => {
    const random = seededRandom(VALUES_SEED + 2);
    await withSeedAsync(VALUES_SEED + 2, async () => {
      const modes = ['return', 'throw', 'nested'] as const;
      const payloads: EchoPayload[] = Array.from({ length: WORKER_JOBS }, () => ({
        codes: randomCodes(random),
        mode: modes[below(random, 3)],
      }));
      const ids = await jobs.performAllLater(
        EchoJob,
        payloads.map((payload) => ({ payload, queue: 'echo' })),
      );
      const finished = await waitFor(
        async () => {
          const records = await Promise.all(ids.map((id) => jobs.find(id)));
          return records.every((r) => r?.state === 'completed' || r?.state === 'failed')
            ? (records as JobRecord[])
            : undefined;
        },
        { message: 'every hostile job to finish', timeoutMs: 10_000 },
      );
      finished.forEach((job, n) => {
        const text = textOf(payloads[n].codes);
        const storable = checkStorableText(text) === undefined;
        if (payloads[n].mode === 'throw') {
          expect(job.state).toBe('failed');
          expect(typeof job.lastError?.message).toBe('string');
          if (storable && text.length < 1_000) expect(job.lastError?.message).toBe(text);
        } else {
          expect(job.state).toBe('completed');
          const expected = payloads[n].mode === 'nested' ? { text, list: [text, 1] } : text;
          if (storable) expect(job.result).toStrictEqual(expected);
        }
      });
    });
  });
});
