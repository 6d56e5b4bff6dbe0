import { Injectable } from '@nestjs/common';
import { JobRunner } from '../worker/job-runner';
import type { AttemptOutcome } from '../worker/job-runner';
import type { CapturedJobEntry } from './captured-jobs.store';

/**
 * Performs captured jobs the way the worker performs claimed ones, through the app's `JobRunner`: the
 * stored (JSON) payload re-validated, a fresh CLS context in the job's captured account (checked by the
 * tenant resolver, if any), its timeout. Unlike the worker it never retries: a job that throws ends
 * `failed` after one attempt, so a test sees the error at once.
 */
@Injectable()
export class CapturedJobRunner {
  constructor(private readonly runner: JobRunner) {}

  /** Performs one attempt and records its outcome on the entry; never throws. */
  async perform(entry: CapturedJobEntry): Promise<AttemptOutcome> {
    const controller = new AbortController();
    entry.state = 'running';
    entry.startedAt = new Date();
    entry.controller = controller;
    const outcome = await this.runner.run(
      {
        id: entry.id,
        name: entry.name,
        queue: entry.queue,
        payload: entry.payload,
        accountId: entry.accountId,
        attempt: entry.attempts + 1,
        maxAttempts: entry.maxAttempts,
      },
      controller.signal,
    );
    entry.controller = undefined;
    // Cancelled while it ran (or the store was cleared): like the real queue, what it did next is dropped.
    if (controller.signal.aborted) return outcome;
    this.record(entry, outcome);
    return outcome;
  }

  private record(entry: CapturedJobEntry, outcome: AttemptOutcome): void {
    const now = new Date();
    if (outcome.kind === 'snoozed') {
      // Back to waiting, not counted as an attempt, as the worker does.
      entry.state = 'available';
      entry.scheduledAt = new Date(now.getTime() + outcome.delayMs);
      return;
    }
    entry.attempts += 1;
    entry.finishedAt = now;
    if (outcome.kind === 'completed') {
      entry.state = 'completed';
      entry.result = outcome.result;
      return;
    }
    entry.state = 'failed';
    entry.error = outcome.error;
    entry.errors.push({
      attempt: entry.attempts,
      at: now.toISOString(),
      name: outcome.error.name,
      message: outcome.error.message,
      stack: outcome.error.stack,
    });
  }
}
