import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper';
import { JobDefinitionError } from '../errors';
import type { JobClass, JobOptions } from '../interfaces';
import { JOB_METADATA, RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import { JobEventDispatcher } from './job-event.dispatcher';
import { JOB_EVENT_METADATA, JobEventRegistration } from './job-event.metadata';
import { JOB_EVENT_TYPES, JobEvent } from './job-event.types';

/**
 * Finds every `@OnJobEvent` method of the application's providers at module init (class, `useValue` and
 * `useFactory` providers alike: it scans instances, whatever made them) and registers it with the
 * dispatcher. A provider reachable under two tokens (`useExisting`) is registered once.
 */
@Injectable()
export class JobEventsExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly dispatcher: JobEventDispatcher,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
  ) {}

  onModuleInit(): void {
    const seen = new WeakSet<object>();
    for (const wrapper of this.discovery.getProviders()) {
      const instance = wrapper.instance as Record<string, unknown> | null | undefined;
      if (!instance || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (!prototype) continue;
      for (const key of this.scanner.getAllMethodNames(prototype)) {
        const method = instance[key];
        if (typeof method !== 'function') continue;
        const registrations = Reflect.getMetadata(JOB_EVENT_METADATA, method) as
          JobEventRegistration[] | undefined;
        if (!registrations) continue;
        const label = `${instance.constructor.name}.${key}`;
        this.checkScope(wrapper, label);
        for (const r of registrations) this.register(label, r, method.bind(instance));
      }
    }
  }

  /** A listener needs one instance to call: request-scoped and transient providers have none. */
  private checkScope(wrapper: InstanceWrapper, label: string): void {
    if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
      throw new JobDefinitionError(
        `@OnJobEvent on ${label}: the provider is request-scoped or transient; listeners must be singletons (remove the scope, or move the listener to a singleton provider).`,
      );
    }
  }

  private register(
    label: string,
    r: JobEventRegistration,
    call: (event: JobEvent) => unknown,
  ): void {
    const unknown = r.types.filter((t) => !JOB_EVENT_TYPES.includes(t));
    if (r.types.length === 0 || unknown.length > 0) {
      throw new JobDefinitionError(
        `@OnJobEvent on ${label}: unknown event type ${JSON.stringify(unknown[0] ?? '')}; use one of ${JOB_EVENT_TYPES.join(', ')}.`,
      );
    }
    const timeoutMs = r.options.timeoutMs ?? this.options.observability.listenerTimeoutMs;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
      throw new JobDefinitionError(
        `@OnJobEvent on ${label}: timeoutMs must be a positive integer (ms), got ${String(timeoutMs)}.`,
      );
    }
    this.dispatcher.add(r.types, {
      label,
      call,
      jobNames: this.jobNames(label, r.options.job),
      timeoutMs,
    });
  }

  /** The names of the `job` filter's classes, read from their `@Job` metadata. */
  private jobNames(label: string, job: JobClass | JobClass[] | undefined): Set<string> | undefined {
    if (job === undefined) return undefined;
    return new Set(
      (Array.isArray(job) ? job : [job]).map((type) => {
        const options = (
          typeof type === 'function' ? Reflect.getMetadata(JOB_METADATA, type) : undefined
        ) as JobOptions | undefined;
        if (!options?.name) {
          throw new JobDefinitionError(
            `@OnJobEvent on ${label}: the job filter lists ${(type as { name?: string })?.name ?? String(type)}, which is not a @Job class; pass the job's class, e.g. { job: SendMailJob }.`,
          );
        }
        return options.name;
      }),
    );
  }
}
