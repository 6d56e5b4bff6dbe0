import { Injectable } from '@nestjs/common';
import { JobRegistry } from '../discovery/job.registry';
import { toError, UnknownJobError } from '../errors';
import { SnoozeSignal } from '../errors/snooze.signal';
import { JobRunner } from '../worker/job-runner';
import type { InMemoryJob } from './in-memory-job';

/** How a captured job's attempt ended. */
export type CapturedOutcome =
  | { kind: 'completed'; result: unknown }
  | { kind: 'snoozed'; delayMs: number }
  | { kind: 'failed'; error: Error };

/**
 * Performs captured jobs the way the worker performs claimed ones, through the app's `JobRunner`: the
 * stored (JSON) payload re-validated, a fresh CLS context in the job's captured account (checked by the
 * tenant resolver, if any), its timeout. Unlike the worker it never retries: a job that throws ends
 * `failed` after one attempt, so a test sees the error at once.
 */
@Injectable()
export class CapturedJobRunner {
  constructor(
    private readonly runner: JobRunner,
    private readonly registry: JobRegistry,
  ) {}

  /** Performs one attempt and records its outcome on the job's row; never throws. */
  async perform(entry: InMemoryJob): Promise<CapturedOutcome> {
    const { row } = entry;
    const controller = new AbortController();
    row.state = 'running';
    row.started_at = new Date();
    entry.controller = controller;
    const outcome = await this.attempt(entry, controller.signal);
    entry.controller = undefined;
    // Cancelled while it ran (or the store was cleared): like the real queue, what it did next is dropped.
    if (controller.signal.aborted) return outcome;
    this.record(entry, outcome);
    return outcome;
  }

  /** Through `JobRunner.execute`, the worker's path: never retried, so whether an error is retryable does not matter. */
  private async attempt({ row }: InMemoryJob, signal: AbortSignal): Promise<CapturedOutcome> {
    const definition = this.registry.forName(row.name);
    if (!definition) return { kind: 'failed', error: new UnknownJobError(row.name) };
    const job = {
      id: row.id,
      name: row.name,
      queue: row.queue,
      payload: row.payload,
      payloadRules: row.payload_rules,
      accountId: row.account_id,
      attempt: row.attempts + 1,
      maxAttempts: row.max_attempts,
    };
    try {
      return { kind: 'completed', result: await this.runner.execute(definition, job, signal) };
    } catch (thrown) {
      if (thrown instanceof SnoozeSignal) return { kind: 'snoozed', delayMs: thrown.delayMs };
      return { kind: 'failed', error: toError(thrown) };
    }
  }

  private record(entry: InMemoryJob, outcome: CapturedOutcome): void {
    const { row } = entry;
    const now = new Date();
    if (outcome.kind === 'snoozed') {
      // Back to waiting, not counted as an attempt, as the worker does.
      row.state = 'available';
      row.run_at = new Date(now.getTime() + outcome.delayMs);
      return;
    }
    row.attempts += 1;
    row.finished_at = now;
    if (outcome.kind === 'completed') {
      row.state = 'completed';
      row.result = outcome.result;
      return;
    }
    row.state = 'failed';
    entry.error = outcome.error;
    row.last_error = {
      attempt: row.attempts,
      at: now.toISOString(),
      name: outcome.error.name,
      message: outcome.error.message,
      stack: outcome.error.stack,
    };
    row.errors.push(row.last_error);
  }
}
