import type { JobDefinition } from '../discovery/job-definition';
import { InvalidEnqueueOptionsError, InvalidJobsOptionsError } from '../errors';
import { resolveJobsOptions } from '../jobs-options';
import { jobLimits } from './job-limits';

const base = { name: 'mail.send', queue: 'mailers' } as JobDefinition;
const ctx = { jobName: 'mail.send', queue: 'mailers', accountId: 'acme' as string | null };
const flow = (options: Parameters<typeof resolveJobsOptions>[0] = {}) =>
  resolveJobsOptions(options).flow;

describe('jobLimits (the keys stored at enqueue)', () => {
  it('is undefined when no limit applies, so the row is written as before', () => {
    expect(jobLimits(base, flow(), {}, ctx, '')).toBeUndefined();
    // A per-account limit does not apply to global jobs.
    expect(
      jobLimits(
        base,
        flow({ flow: { accountConcurrency: 2 } }),
        {},
        { ...ctx, accountId: null },
        '',
      ),
    ).toBeUndefined();
  });

  it("keys a job's own limit by group and key, and per account by queue scope", () => {
    const def = {
      ...base,
      concurrency: { group: 'mail.send', limit: 1, key: (p: { to: string }) => p.to },
    } as JobDefinition;
    expect(jobLimits(def, flow(), { to: 'x@y' }, ctx, '')).toEqual({
      concurrencyKey: 'job\u001fmail.send\u001fx@y',
      concurrencyLimit: 1,
      rateKey: null,
      rateLimit: null,
      ratePeriodMs: null,
    });
    const perAccount = flow({
      flow: { accountConcurrency: 3, queues: { imports: { accountConcurrency: 1 } } },
    });
    expect(jobLimits(base, perAccount, {}, ctx, '')?.concurrencyKey).toBe(
      'account\u001f*\u001facme',
    );
    expect(jobLimits(base, perAccount, {}, { ...ctx, queue: 'imports' }, '')).toMatchObject({
      concurrencyKey: 'account\u001fimports\u001facme',
      concurrencyLimit: 1,
    });
  });

  it('never gives two different (group, key) pairs one stored key', () => {
    const keyed = (group: string) =>
      ({ ...base, concurrency: { group, limit: 1, key: (k: string) => k } }) as JobDefinition;
    const a = jobLimits(keyed('a'), flow(), 'b:c', ctx, '')?.concurrencyKey;
    const b = jobLimits(keyed('a:b'), flow(), 'c', ctx, '')?.concurrencyKey;
    expect(a).not.toBe(b);
  });

  it('uses the job rate first, else the queue rate, per queue or per account', () => {
    const queues = flow({
      flow: { queues: { mailers: { rate: { limit: 10, periodMs: 1_000, per: 'account' } } } },
    });
    expect(jobLimits(base, queues, {}, ctx, '')).toMatchObject({
      rateKey: 'queue\u001fmailers\u001facme',
      rateLimit: 10,
      ratePeriodMs: 1_000,
    });
    const own = {
      ...base,
      rate: { group: 'mail.send', limit: 2, periodMs: 50, key: undefined },
    } as JobDefinition;
    expect(jobLimits(own, queues, {}, ctx, '')).toMatchObject({
      rateKey: 'job\u001fmail.send',
      rateLimit: 2,
    });
  });

  it('refuses a key whose stored form is too long for the index, naming the field', () => {
    const def = {
      ...base,
      concurrency: { group: '\u20ac'.repeat(255), limit: 1, key: () => '\u20ac'.repeat(255) },
    } as JobDefinition;
    expect(() => jobLimits(def, flow(), {}, ctx, '[3]')).toThrow(InvalidEnqueueOptionsError);
    expect(() => jobLimits(def, flow(), {}, ctx, '[3]')).toThrow('"[3].concurrency.key"');
  });

  it('reports a key function that throws something that is not an Error', () => {
    const def = {
      ...base,
      concurrency: {
        group: 'g',
        limit: 1,
        key: () => {
          throw { code: 42 };
        },
      },
    } as JobDefinition;
    expect(() => jobLimits(def, flow(), {}, ctx, '')).toThrow('the key function threw');
  });
});

describe('the flow module option', () => {
  it.each([
    [{ accountConcurrency: 0 }, 'flow.accountConcurrency'],
    [{ accountConcurrency: 2 ** 31 }, 'flow.accountConcurrency'],
    [
      { queues: { mailers: { accountConcurrency: 1.5 } } },
      'flow.queues["mailers"].accountConcurrency',
    ],
    [
      { queues: { mailers: { rate: { limit: 1, periodMs: 0 } } } },
      'flow.queues["mailers"].rate.periodMs',
    ],
    [
      { queues: { mailers: { rate: { limit: NaN, periodMs: 10 } } } },
      'flow.queues["mailers"].rate.limit',
    ],
    [{ queues: { '*': { accountConcurrency: 1 } } }, 'flow.queues["*"]'],
    [{ queues: { 'a\u0000': { accountConcurrency: 1 } } }, 'flow.queues["a\\u0000"]'],
    [
      { queues: { mailers: { rate: { limit: 1, periodMs: 10, per: 'job' } } } },
      'flow.queues["mailers"].rate.per',
    ],
  ])('refuses %j at startup, naming %s', (given, option) => {
    expect(() => resolveJobsOptions({ flow: given as never })).toThrow(InvalidJobsOptionsError);
    expect(() => resolveJobsOptions({ flow: given as never })).toThrow(option);
  });

  it('accepts a queue named like an Object.prototype property', () => {
    const resolved = resolveJobsOptions({
      flow: { queues: { constructor: { accountConcurrency: 1 } } },
    });
    expect(resolved.flow.queues.get('constructor')?.accountConcurrency).toBe(1);
    expect(resolved.flow.queues.get('toString')).toBeUndefined();
  });
});
