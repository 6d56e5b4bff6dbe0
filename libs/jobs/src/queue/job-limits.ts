import type { DefinedConcurrency, JobDefinition } from '../discovery/job-definition';
import { InvalidEnqueueOptionsError, toError } from '../errors';
import type { FlowKeyContext } from '../interfaces';
import type { ResolvedFlowOptions } from '../jobs-options';
import type { JobLimits } from '../persistence/job-row';
import { checkFlowKey, FLOW_KEY_MAX_BYTES, flowKey } from '../values';

/**
 * The limits one job is enqueued under (`JobLimits`, stored with it), or `undefined` when none applies
 * (the usual case: the row is written exactly as before limits existed).
 *
 * - Concurrency: the job's `@Job({ concurrency })` (key `job␟group[␟key]`); else, for a tenant job, its
 *   queue's `flow.queues[q].accountConcurrency` (key `account␟queue␟id`), else the module-wide
 *   `flow.accountConcurrency` (key `account␟*␟id`; `*` is never a queue name). One concurrency key per job.
 * - Rate: the job's `@Job({ rate })` (key `job␟group[␟key]`); else its queue's `flow.queues[q].rate`
 *   (key `queue␟q`, or `queue␟q␟account` with `per: 'account'`). One rate key per job.
 *
 * A key function runs here, once: its result is checked (`checkFlowKey`) and a throw or a bad result is
 * an `InvalidEnqueueOptionsError` naming the job and the field, before anything is written.
 */
export function jobLimits(
  definition: JobDefinition,
  flow: ResolvedFlowOptions,
  payload: unknown,
  ctx: FlowKeyContext,
  prefix: string,
): JobLimits | undefined {
  const concurrency = definition.concurrency;
  const rate = definition.rate;
  if (!concurrency && !rate && !flow.any) return undefined;
  const limits: JobLimits = {
    concurrencyKey: null,
    concurrencyLimit: null,
    rateKey: null,
    rateLimit: null,
    ratePeriodMs: null,
  };
  const queue = flow.queues.get(ctx.queue);
  if (concurrency) {
    limits.concurrencyKey = ownKey(definition, 'concurrency', concurrency, payload, ctx, prefix);
    limits.concurrencyLimit = concurrency.limit;
  } else if (ctx.accountId !== null) {
    const perQueue = queue?.accountConcurrency;
    const limit = perQueue ?? flow.accountConcurrency;
    if (limit !== undefined) {
      const scope = perQueue !== undefined ? ctx.queue : '*';
      limits.concurrencyKey = checkedBytes(
        definition,
        prefix,
        'accountId',
        flowKey('account', scope, ctx.accountId),
      );
      limits.concurrencyLimit = limit;
    }
  }
  if (rate) {
    limits.rateKey = ownKey(definition, 'rate', rate, payload, ctx, prefix);
    limits.rateLimit = rate.limit;
    limits.ratePeriodMs = rate.periodMs;
  } else if (queue?.rate) {
    const key =
      queue.rate.per === 'account'
        ? flowKey('queue', ctx.queue, ctx.accountId ?? '')
        : flowKey('queue', ctx.queue);
    limits.rateKey = checkedBytes(definition, prefix, 'accountId', key);
    limits.rateLimit = queue.rate.limit;
    limits.ratePeriodMs = queue.rate.periodMs;
  }
  return limits.concurrencyKey === null && limits.rateKey === null ? undefined : limits;
}

/** The stored key of a `@Job` limit: its group, then its key function's checked result, if any. */
function ownKey(
  definition: JobDefinition,
  option: 'concurrency' | 'rate',
  limit: DefinedConcurrency,
  payload: unknown,
  ctx: FlowKeyContext,
  prefix: string,
): string {
  if (!limit.key) return flowKey('job', limit.group);
  const field = `${prefix ? `${prefix}.` : ''}${option}.key`;
  let key: unknown;
  try {
    key = (limit.key as (payload: unknown, ctx: FlowKeyContext) => unknown)(payload, { ...ctx });
  } catch (thrown) {
    const error = toError(thrown);
    throw new InvalidEnqueueOptionsError(
      definition.name,
      field,
      `the key function threw (${describeError(error)}); fix it or the payload. Nothing was written.`,
      { cause: error },
    );
  }
  const problem = checkFlowKey(key);
  if (problem !== undefined) throw new InvalidEnqueueOptionsError(definition.name, field, problem);
  return checkedBytes(
    definition,
    prefix,
    `${option}.key`,
    flowKey('job', limit.group, key as string),
  );
}

/** `key` unless it is longer than a stored key may be (`FLOW_KEY_MAX_BYTES`). */
function checkedBytes(
  definition: JobDefinition,
  prefix: string,
  field: string,
  key: string,
): string {
  const bytes = Buffer.byteLength(key, 'utf8');
  if (bytes <= FLOW_KEY_MAX_BYTES) return key;
  throw new InvalidEnqueueOptionsError(
    definition.name,
    `${prefix ? `${prefix}.` : ''}${field}`,
    `the stored limit key would be ${bytes} bytes of UTF-8, over ${FLOW_KEY_MAX_BYTES} (the group or ` +
      `queue name plus the key): use a shorter key, or hash it.`,
  );
}

/** An error's name and message for a problem text, never throwing (a hostile error's getters may). */
function describeError(error: Error): string {
  try {
    return `${String(error.name)}: ${String(error.message)}`.slice(0, 500);
  } catch {
    return 'an error whose message cannot be read';
  }
}
