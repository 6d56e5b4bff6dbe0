import { Inject, Injectable, Optional } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { JobDefinition } from '../discovery/job-definition';
import { JobRegistry } from '../discovery/job.registry';
import type { BulkJob, JobClass } from '../interfaces';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import { DISABLED_LIFECYCLE, JobLifecycle } from '../observability/job-lifecycle';
import { serializePayload, toValidPayload } from '../payload/payload';
import type { NewJob } from '../persistence/job-row';
import { InsertedJob, JOB_STORE, JobStore } from '../persistence/job-store';
import { TenantContext } from '../tenancy/tenant-context';
import { validateEnqueueOptions } from './enqueue-options.validation';
import { jobLimits } from './job-limits';

/**
 * From this many items, a bulk enqueue outside a transaction validates payloads while the insert runs
 * (`InsertOptions.validation`); below it, the extra round-trips of a transaction would cost more than the
 * overlap saves.
 */
const OVERLAPPED_ENQUEUE_MIN = 100;

/**
 * Everything an enqueue does: checks every item's options, validates and serializes its payload, captures
 * its account (failing closed), writes all items or none through the `JobStore`, and returns their ids in
 * item order, the ids of existing holders for deduplicated `uniqueKey`s included. The same for the
 * PostgreSQL and the in-memory store, so tests see production's validation and tenant rules.
 */
@Injectable()
export class EnqueuePipeline {
  constructor(
    private readonly registry: JobRegistry,
    private readonly tenancy: TenantContext,
    @Inject(JOB_STORE) private readonly store: JobStore,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
    // Optional: the testing module's pipeline has no lifecycle (nothing observes its jobs).
    @Optional() private readonly lifecycle: JobLifecycle = DISABLED_LIFECYCLE,
  ) {}

  /** The registered name of `job` (throws `JobDefinitionError` for a class that is not a job). */
  nameOf(job: JobClass<unknown>): string {
    return this.registry.forType(job).name;
  }

  /** Enqueues `items` of `job`, inside `manager`'s transaction when given. */
  async enqueue<P>(
    job: JobClass<P>,
    items: ReadonlyArray<BulkJob<P>>,
    manager: EntityManager | undefined,
  ): Promise<string[]> {
    if (items.length === 0) return [];
    const definition = this.registry.forType(job);
    const tracing = this.lifecycle.tracing;
    if (tracing) {
      const queue = items[0].queue ?? definition.queue;
      return tracing.send({ name: definition.name, queue }, items.length, () =>
        this.write(definition, items, manager),
      );
    }
    return this.write(definition, items, manager);
  }

  /** Checks and writes the items (see `enqueue`). */
  private async write<P>(
    definition: JobDefinition,
    items: ReadonlyArray<BulkJob<P>>,
    manager: EntityManager | undefined,
  ): Promise<string[]> {
    if (manager || items.length < OVERLAPPED_ENQUEUE_MIN) {
      return this.insert(await this.prepare(definition, items), manager);
    }
    return this.insertWhileValidating(definition, items);
  }

  /**
   * A large bulk enqueue outside the caller's transaction: payload classes are validated (most of its time
   * in node) while the store inserts, and the rows are kept only if every payload is valid. Options,
   * serialization and tenant capture are checked for every item before the insert is sent.
   */
  private async insertWhileValidating<P>(
    definition: JobDefinition,
    items: ReadonlyArray<BulkJob<P>>,
  ): Promise<string[]> {
    const jobs = items.map((item, index) => {
      validateEnqueueOptions(definition, item, `[${index}]`);
      return this.describe(definition, item, `[${index}]`);
    });
    const rows = await this.store.insert(jobs, {
      validation: () => this.validatePayloads(definition, items),
    });
    if (this.lifecycle.enabled) this.lifecycle.enqueued(jobs, rows);
    if (rows.length === jobs.length) return rows.map((r) => r.id);
    return this.withExistingIds(jobs, rows, undefined);
  }

  /**
   * Checks every item (all of them before anything is written): its options, its payload's storable JSON
   * under the size limit and its account, then its payload class. Throws `InvalidEnqueueOptionsError` /
   * `InvalidPayloadError` / `InvalidAccountIdError` / `MissingTenantError`; returns one job per item, in
   * order. Serializing comes first: it refuses cyclic and too deep payloads, on which class-transformer
   * would throw a raw `RangeError`.
   */
  private async prepare<P>(
    definition: JobDefinition,
    items: ReadonlyArray<BulkJob<P>>,
  ): Promise<NewJob[]> {
    const jobs: NewJob[] = [];
    for (const [index, item] of items.entries()) {
      const prefix = items.length > 1 ? `[${index}]` : '';
      validateEnqueueOptions(definition, item, prefix);
      const job = this.describe(definition, item, prefix);
      await toValidPayload(definition, item.payload, this.options.validatorOptions, prefix);
      jobs.push(job);
    }
    return jobs;
  }

  /** Validates every item's payload; throws the first invalid item's `InvalidPayloadError`. */
  private async validatePayloads<P>(
    definition: JobDefinition,
    items: ReadonlyArray<BulkJob<P>>,
  ): Promise<void> {
    const outcomes = await Promise.allSettled(
      items.map((item, index) =>
        toValidPayload(definition, item.payload, this.options.validatorOptions, `[${index}]`),
      ),
    );
    const invalid = outcomes.find((o) => o.status === 'rejected');
    if (invalid) throw invalid.reason;
  }

  /**
   * One item, its options already checked, as a job to write: its payload serialized (strictly, see
   * `serializePayload`) and its account captured; its payload class is validated apart.
   */
  private describe<P>(definition: JobDefinition, item: BulkJob<P>, prefix: string): NewJob {
    const { maxPayloadBytes } = this.options;
    const queue = item.queue ?? definition.queue;
    const payloadJson = serializePayload(definition, item.payload, maxPayloadBytes, prefix);
    const accountId = this.tenancy.captureFor(
      definition,
      item.accountId,
      prefix ? `${prefix}.accountId` : 'accountId',
    );
    const job: NewJob = {
      name: definition.name,
      queue,
      priority: item.priority ?? definition.priority,
      payloadJson,
      accountId,
      maxAttempts: item.maxAttempts ?? definition.maxAttempts,
      runAt: item.runAt ?? null,
      delayMs: item.delayMs !== undefined ? Math.round(item.delayMs) : null,
      uniqueKey: item.uniqueKey ?? null,
      traceContext: this.lifecycle.tracing ? this.lifecycle.tracing.traceparent() : null,
      parentId: this.tenancy.currentJobId(),
      payloadRules: definition.payloadRules?.fingerprint,
    };
    // Concurrency and rate keys (after the account: per-account keys read it); none in the usual case.
    const limits = jobLimits(
      definition,
      this.options.flow,
      item.payload,
      {
        jobName: definition.name,
        queue,
        accountId,
      },
      prefix,
    );
    if (limits) job.limits = limits;
    return job;
  }

  /** Writes jobs in one statement and returns their ids in order (see `withExistingIds`). */
  private async insert(jobs: NewJob[], manager?: EntityManager): Promise<string[]> {
    if (jobs.length === 0) return [];
    const rows = await this.store.insert(jobs, { manager });
    if (this.lifecycle.enabled) this.lifecycle.enqueued(jobs, rows);
    if (rows.length === jobs.length) return rows.map((r) => r.id);
    return this.withExistingIds(jobs, rows, manager);
  }

  /**
   * Some jobs were deduplicated by `uniqueKey`: return, in item order, the new ids and the ids of the
   * unfinished jobs that already held the other keys.
   */
  private async withExistingIds(
    jobs: NewJob[],
    inserted: InsertedJob[],
    manager: EntityManager | undefined,
  ): Promise<string[]> {
    const byKey = new Map(
      inserted.filter((r) => r.unique_key !== null).map((r) => [r.unique_key, r.id]),
    );
    const missing = jobs.map((j) => j.uniqueKey).filter((k): k is string => !!k && !byKey.has(k));
    if (missing.length > 0) {
      for (const row of await this.store.findByUniqueKeys(missing, manager)) {
        byKey.set(row.unique_key, row.id);
      }
      // The holder finished between our insert and this look-up, freeing its key: insert those again
      // (already validated and captured, so straight to the insert).
      const freed = jobs.filter((j) => j.uniqueKey && !byKey.has(j.uniqueKey));
      if (freed.length > 0) {
        const ids = await this.insert(freed, manager);
        freed.forEach((job, n) => byKey.set(job.uniqueKey as string, ids[n]));
      }
    }
    let next = 0;
    const plain = inserted.filter((r) => r.unique_key === null);
    return jobs.map((job) =>
      job.uniqueKey ? (byKey.get(job.uniqueKey) as string) : plain[next++].id,
    );
  }
}
