import type { JobDefinition } from '../discovery/job-definition';
import { JobRegistry } from '../discovery/job.registry';
import { DiscardJobError, JobCancelledError } from '../errors';
import type { HandlerInvoker, JobContext } from '../interfaces';
import { resolveJobsOptions } from '../jobs-options';
import type { JobAttempt } from '../persistence/job-attempt';
import type { TenantContext } from '../tenancy/tenant-context';
import { JobRunner } from './job-runner';
import { MAX_DELAY_MS } from './job-transition';

class Transient extends Error {}
class Fatal extends Error {}

type Perform = (payload: unknown, ctx: JobContext) => unknown;

/** A runner over one job named `job`, no tenancy, fixed 100 ms backoff without jitter. */
function setup(perform: Perform, overrides: Partial<JobDefinition> = {}, invoker?: HandlerInvoker) {
  const registry = new JobRegistry();
  const definition: JobDefinition = {
    name: 'job',
    queue: 'default',
    priority: 0,
    maxAttempts: 3,
    timeoutMs: undefined,
    backoff: { type: 'fixed', baseMs: 100, maxMs: 3_600_000, jitter: 0 },
    payloadType: undefined,
    tenant: 'none',
    retryOn: undefined,
    discardOn: [],
    type: class Job {},
    instance: { perform: (payload, ctx) => perform(payload, ctx) },
    ...overrides,
  };
  registry.add(definition);
  const tenancy = { run: (_job: unknown, fn: () => Promise<unknown>) => fn() };
  const runner = new JobRunner(
    registry,
    tenancy as unknown as TenantContext,
    resolveJobsOptions(),
    invoker as never,
  );
  return { runner, definition };
}

function attempt(n = 1, name = 'job'): JobAttempt {
  return {
    id: '7',
    name,
    queue: 'default',
    payload: {},
    accountId: null,
    attempt: n,
    maxAttempts: 3,
  };
}

const signal = () => new AbortController().signal;

describe('JobRunner.attempt', () => {
  describe('complete', () => {
    it.each([
      ['a JSON value', { a: [1, 'x'] }, '{"a":[1,"x"]}'],
      ['nothing', undefined, null],
      ['a value JSON cannot hold (dropped)', 1n, null],
      ['NUL (replaced by U+FFFD)', 'a\u0000b', '"a\uFFFDb"'],
      ['a lone surrogate (replaced by U+FFFD)', { k: '\ud800' }, '{"k":"\uFFFD"}'],
    ])('stores %s as storable JSON text', async (_, value, result) => {
      const { runner } = setup(() => value);
      await expect(runner.attempt(attempt(), signal())).resolves.toEqual({
        kind: 'complete',
        result,
      });
    });
  });

  describe('retry and fail', () => {
    it('retries after the backoff while attempts are left, with the error record built', async () => {
      const { runner } = setup(() => {
        throw new Transient('try again');
      });
      const t = await runner.attempt(attempt(2), signal());
      expect(t).toEqual({
        kind: 'retry',
        delayMs: 100,
        error: {
          attempt: 2,
          at: expect.any(String),
          name: 'Transient',
          message: 'try again',
          stack: expect.stringContaining('try again'),
        },
      });
    });

    it('fails on the last attempt', async () => {
      const { runner } = setup(() => Promise.reject(new Transient('no more')));
      const t = await runner.attempt(attempt(3), signal());
      expect(t).toMatchObject({ kind: 'fail', error: { attempt: 3, message: 'no more' } });
    });

    it('fails at once on DiscardJobError, discardOn errors and errors outside retryOn', async () => {
      const discard = setup(() => {
        throw new DiscardJobError('gone');
      });
      expect(await discard.runner.attempt(attempt(1), signal())).toMatchObject({
        kind: 'fail',
        error: { name: 'DiscardJobError', message: 'gone' },
      });
      const picky = (error: Error) =>
        setup(
          () => {
            throw error;
          },
          { retryOn: [Transient], discardOn: [Fatal] },
        ).runner.attempt(attempt(1), signal());
      expect((await picky(new Fatal('x'))).kind).toBe('fail');
      expect((await picky(new TypeError('x'))).kind).toBe('fail');
      expect((await picky(new Transient('x'))).kind).toBe('retry');
    });

    it('fails a job whose name has no handler', async () => {
      const { runner } = setup(() => 'never');
      expect(await runner.attempt(attempt(1, 'gone'), signal())).toMatchObject({
        kind: 'fail',
        error: { name: 'UnknownJobError', message: expect.stringContaining('"gone"') },
      });
    });

    it('uses backoff.maxMs when a backoff function throws, and caps delays at MAX_DELAY_MS', async () => {
      const fail = () => {
        throw new Transient('x');
      };
      const throwing = setup(fail, {
        backoff: {
          type: () => {
            throw new Error('bad backoff');
          },
          baseMs: 1,
          maxMs: 5_000,
          jitter: 0,
        },
      });
      expect(await throwing.runner.attempt(attempt(1), signal())).toMatchObject({
        kind: 'retry',
        delayMs: 5_000,
      });
      const huge = setup(fail, {
        backoff: { type: 'fixed', baseMs: 1e20, maxMs: 1e20, jitter: 0 },
      });
      expect(await huge.runner.attempt(attempt(1), signal())).toMatchObject({
        kind: 'retry',
        delayMs: MAX_DELAY_MS,
      });
    });
  });

  describe('hostile throwables never make it throw', () => {
    const getterThrows = (field: 'message' | 'stack' | 'name') => {
      const error = new Transient('real message');
      Object.defineProperty(error, field, {
        get() {
          throw new Error(`${field} getter`);
        },
      });
      return error;
    };
    const proxy = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
        getPrototypeOf() {
          throw new Error('trap');
        },
        ownKeys() {
          throw new Error('trap');
        },
      },
    );
    const badJson = {
      toJSON() {
        throw new Error('toJSON');
      },
      toString() {
        throw new Error('toString');
      },
    };

    it.each([
      ['an Error whose message getter throws', getterThrows('message')],
      ['an Error whose stack getter throws', getterThrows('stack')],
      ['an Error whose name getter throws', getterThrows('name')],
      ['a Proxy whose every trap throws', proxy],
      ['an object whose toJSON and toString throw', badJson],
      ['a symbol', Symbol('s')],
      ['null', null],
      ['undefined', undefined],
      ['a number', 42],
      ['a string', 'plain text'],
    ])('records %s as an error', async (_, thrown) => {
      const { runner } = setup(() => {
        throw thrown;
      });
      const t = await runner.attempt(attempt(3), signal());
      expect(t).toMatchObject({ kind: 'fail', error: { attempt: 3 } });
      const error = (t as Extract<typeof t, { kind: 'fail' }>).error;
      expect(typeof error.name).toBe('string');
      expect(typeof error.message).toBe('string');
      expect(() => JSON.stringify(error)).not.toThrow();
    });

    it('keeps what can be read of a partly hostile Error', async () => {
      const { runner } = setup(() => {
        throw getterThrows('stack');
      });
      expect(await runner.attempt(attempt(3), signal())).toMatchObject({
        error: { name: 'Transient', message: 'real message' },
      });
    });
  });

  describe('snooze', () => {
    it.each([
      [50, 50],
      [1.6, 2],
      [-1, 0],
      [MAX_DELAY_MS, MAX_DELAY_MS],
    ])('snooze(%p) snoozes %p ms', async (asked, delayMs) => {
      const { runner } = setup((_, ctx) => ctx.snooze(asked));
      expect(await runner.attempt(attempt(1), signal())).toEqual({ kind: 'snooze', delayMs });
    });

    it.each([NaN, Infinity, -Infinity, 1e300, MAX_DELAY_MS + 1, '10' as unknown as number])(
      'snooze(%p) fails the attempt with InvalidSnoozeError (retried per policy)',
      async (asked) => {
        const { runner } = setup((_, ctx) => ctx.snooze(asked));
        expect(await runner.attempt(attempt(1), signal())).toMatchObject({
          kind: 'retry',
          error: { name: 'InvalidSnoozeError', message: expect.stringContaining('Job "job"') },
        });
      },
    );
  });

  describe('cancel', () => {
    it('reports a cancel when the signal was aborted by a cancellation, however the job ended', async () => {
      for (const ending of ['reject', 'resolve'] as const) {
        const controller = new AbortController();
        const { runner } = setup((_, ctx) => {
          controller.abort(new JobCancelledError('7'));
          if (ending === 'reject') throw ctx.signal.reason;
          return 'done anyway';
        });
        expect(await runner.attempt(attempt(1), controller.signal)).toEqual({ kind: 'cancel' });
      }
    });
  });

  it('calls every handler through the invoker', async () => {
    const calls: string[] = [];
    const invoker: HandlerInvoker = {
      invoke: async (definition, payload, ctx) => {
        calls.push(`${definition.name}#${ctx.id}`);
        return `wrapped ${String(await definition.instance.perform(payload, ctx))}`;
      },
    };
    const { runner } = setup(() => 'inner', {}, invoker);
    expect(await runner.attempt(attempt(), signal())).toEqual({
      kind: 'complete',
      result: '"wrapped inner"',
    });
    expect(calls).toEqual(['job#7']);
  });
});
