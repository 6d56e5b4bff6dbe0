import { Inject, Injectable, OnModuleInit, Type } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { JobDefinitionError } from '../errors';
import { JOB_METADATA, RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { JobHandler, JobOptions } from '../interfaces';
import { definedOnly, ResolvedJobsOptions, validateBackoff } from '../jobs-options';
import type { JobDefinition } from './job-definition';
import { JobRegistry } from './job.registry';

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

  private define(type: Type<unknown>, o: JobOptions, instance: JobHandler): JobDefinition {
    const d = this.options.defaults;
    if (typeof o.name !== 'string' || o.name.length === 0) {
      throw new JobDefinitionError(`@Job on ${type.name} needs a non-empty name.`);
    }
    if (o.maxAttempts !== undefined && (!Number.isInteger(o.maxAttempts) || o.maxAttempts < 1)) {
      throw new JobDefinitionError(
        `@Job "${o.name}" (${type.name}): maxAttempts must be a positive integer.`,
      );
    }
    if (o.backoff) validateBackoff(`@Job "${o.name}" backoff`, o.backoff);
    return {
      name: o.name,
      queue: o.queue ?? d.queue,
      priority: o.priority ?? d.priority,
      maxAttempts: o.maxAttempts ?? d.maxAttempts,
      timeoutMs: o.timeoutMs ?? d.timeoutMs,
      backoff: { ...d.backoff, ...definedOnly(o.backoff) },
      payloadType: o.payload,
      tenant: o.tenant ?? 'required',
      retryOn: o.retryOn,
      discardOn: o.discardOn ?? [],
      type,
      instance,
    };
  }
}
