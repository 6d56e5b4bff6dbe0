import { Inject, Injectable, OnModuleInit, Type } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { JobDefinitionError } from '../errors';
import { JOB_METADATA, RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ConcurrencyLimit, JobHandler, JobOptions } from '../interfaces';
import { definedOnly, ResolvedJobsOptions, validateBackoff } from '../jobs-options';
import { payloadRulesOf } from '../payload/payload-rules';
import type { DefinedConcurrency, JobDefinition } from './job-definition';
import { JobRegistry } from './job.registry';
import { checkInt4, checkName, checkPositiveInt4, checkTimerMs, describeValue } from '../values';

/**
 * Finds every `@Job` provider in the application at module init, whether registered as a class,
 * `useValue` or `useFactory` provider, in any module, and registers it.
 */
@Injectable()
export class JobsExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
    private readonly registry: JobRegistry,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
  ) {}

  onModuleInit(): void {
    for (const wrapper of this.discovery.getProviders()) {
      const type = this.jobClassOf(wrapper);
      if (!type) continue;
      const options = this.reflector.get<JobOptions>(JOB_METADATA, type);
      // A transient wrapper's static instance is a bare prototype (its constructor never ran), so it
      // cannot perform either: refuse it like a request-scoped one.
      if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
        throw JobDefinitionError.requestScoped(type.name);
      }
      const instance = wrapper.instance as Partial<JobHandler> | undefined;
      if (!instance || typeof instance.perform !== 'function') {
        throw JobDefinitionError.missingPerform(type.name);
      }
      this.registry.add(this.define(type, options, instance as JobHandler));
    }
  }

  /**
   * The class carrying `@Job` metadata: the provider's metatype for class providers, the instance's
   * constructor for `useValue` / `useFactory` providers (whose metatype is the factory or absent).
   */
  private jobClassOf(wrapper: InstanceWrapper): Type<unknown> | undefined {
    const candidates = [
      wrapper.inject ? undefined : wrapper.metatype,
      (wrapper.instance as object | undefined)?.constructor,
    ];
    return candidates.find(
      (c): c is Type<unknown> => typeof c === 'function' && !!this.reflector.get(JOB_METADATA, c),
    );
  }

  /**
   * Resolves one `@Job`'s options against the module defaults, range-checked here at startup so a bad
   * setting stops the app instead of failing every enqueue or firing every timer at once: a name and a
   * queue the jobs table stores and indexes (`checkName`), `maxAttempts` and `priority` that are
   * PostgreSQL integers, and a `timeoutMs` that is a Node timer (1 to 2^31 − 1 ms: a 30-day timeout
   * used to time every attempt out at once; 0, -1 and NaN used to be accepted).
   */
  private define(type: Type<unknown>, o: JobOptions, instance: JobHandler): JobDefinition {
    const d = this.options.defaults;
    if (typeof o.name !== 'string' || o.name.length === 0) {
      throw new JobDefinitionError(`@Job on ${type.name} needs a non-empty name.`);
    }
    const fail = (option: string, problem: string | undefined): void => {
      if (problem === undefined) return;
      // describeValue quotes the name as JSON, so a name holding U+0000 prints escaped.
      throw new JobDefinitionError(
        `@Job ${describeValue(o.name)} (${type.name}): ${option} ${problem}`,
      );
    };
    fail('name', checkName(o.name, 'jobName'));
    if (o.maxAttempts !== undefined && (!Number.isInteger(o.maxAttempts) || o.maxAttempts < 1)) {
      fail('maxAttempts', 'must be a positive integer.');
    }
    if (o.maxAttempts !== undefined) fail('maxAttempts', checkPositiveInt4(o.maxAttempts));
    if (o.priority !== undefined) fail('priority', checkInt4(o.priority));
    if (o.queue !== undefined) fail('queue', checkName(o.queue, 'queue'));
    if (o.timeoutMs !== undefined) fail('timeoutMs', checkTimerMs(o.timeoutMs));
    if (o.backoff) validateBackoff(`@Job "${o.name}" backoff`, o.backoff);
    const concurrency = o.concurrency && defineLimit('concurrency', o.name, o.concurrency, fail);
    const rate = o.rate && {
      ...defineLimit('rate', o.name, o.rate, fail),
      periodMs: o.rate.periodMs,
    };
    if (o.rate) fail('rate.periodMs', checkTimerMs(o.rate.periodMs));
    return {
      name: o.name,
      queue: o.queue ?? d.queue,
      priority: o.priority ?? d.priority,
      maxAttempts: o.maxAttempts ?? d.maxAttempts,
      timeoutMs: o.timeoutMs ?? d.timeoutMs,
      backoff: { ...d.backoff, ...definedOnly(o.backoff) },
      payloadType: o.payload,
      payloadRules: o.payload && payloadRulesOf(o.payload, this.options.validatorOptions),
      tenant: o.tenant ?? 'required',
      retryOn: o.retryOn,
      discardOn: o.discardOn ?? [],
      concurrency,
      rate,
      type,
      instance,
    };
  }
}

/**
 * A `@Job` `concurrency` or `rate` option, checked: an object whose `limit` is a PostgreSQL integer from
 * 1, whose `key` (if any) is a function, and whose `group` (if any) is a name like a job's.
 */
function defineLimit(
  option: 'concurrency' | 'rate',
  name: string,
  value: ConcurrencyLimit,
  fail: (option: string, problem: string | undefined) => void,
): DefinedConcurrency {
  if (typeof value !== 'object' || value === null) {
    fail(option, `must be an object such as { limit: 1 }, got ${describeValue(value)}.`);
  }
  fail(`${option}.limit`, checkPositiveInt4(value.limit));
  if (value.key !== undefined && typeof value.key !== 'function') {
    fail(
      `${option}.key`,
      `must be a function (payload, ctx) => string, got ${describeValue(value.key)}.`,
    );
  }
  if (value.group !== undefined) fail(`${option}.group`, checkName(value.group, 'jobName'));
  return { group: value.group ?? name, limit: value.limit, key: value.key };
}
