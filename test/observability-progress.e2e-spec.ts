import { Injectable, Logger } from '@nestjs/common';
import { TestingModule } from '@nestjs/testing';
import {
  Job,
  JobContext,
  JobHandler,
  JobProgressEvent,
  JobQueueService,
  OnJobEvent,
} from 'nestjs-tenant-jobs';
import { createTestDatabase, TestDatabase } from './support/database';
import { createJobsApp } from './support/jobs-app';
import { waitForJobState } from './support/jobs';
import { waitFor } from './support/wait-for';

/** Lets a test hold a running job at a step and release it. */
const gates = new Map<string, () => void>();
const gate = (id: string) => new Promise<void>((resolve) => gates.set(id, resolve));

/**
 * Works through `total` records 1,000 at a time, reporting each batch; after the first batch it waits
 * for the test to release it (so the test can read the progress of a running job).
 */
@Job({ name: 'progress.batch', tenant: 'none', maxAttempts: 1 })
class BatchJob implements JobHandler<{ total: number }> {
  async perform(payload: { total: number }, ctx: JobContext): Promise<{ done: number }> {
    let done = 0;
    while (done < payload.total) {
      done = Math.min(payload.total, done + 1_000);
      ctx.progress({ done, total: payload.total });
      if (done === 1_000) await gate(ctx.id);
    }
    return { done };
  }
}

@Job({ name: 'progress.bad', tenant: 'none', maxAttempts: 1 })
class BadProgressJob implements JobHandler {
  perform(_payload: unknown, ctx: JobContext): void {
    ctx.progress([1, 2, 3] as never);
  }
}

@Injectable()
class ProgressEvents {
  readonly seen: JobProgressEvent[] = [];
  @OnJobEvent('progress')
  record(event: JobProgressEvent): void {
    this.seen.push(event);
  }
}

describe('progress (ctx.progress)', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let jobs: JobQueueService;
  let events: ProgressEvents;

  beforeAll(async () => {
    db = await createTestDatabase();
    jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    app = await createJobsApp({
      url: db.url,
      jobs: { observability: { progressIntervalMs: 60_000 } },
      providers: [BatchJob, BadProgressJob, ProgressEvents],
    });
    jobs = app.get(JobQueueService);
    events = app.get(ProgressEvents);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
    jest.restoreAllMocks();
  });

  it('is stored while the job runs, coalesced, and its last value is stored before the outcome', async () => {
    const id = await jobs.performLater(BatchJob, { total: 10_000 });
    // The first value is written at once: a running job shows how far it is.
    const running = await waitFor(
      async () => {
        const job = await jobs.find(id);
        return job?.state === 'running' && job.progress ? job : undefined;
      },
      { message: 'the running job to show its progress' },
    );
    expect(running.progress).toEqual({ done: 1_000, total: 10_000 });
    await waitFor(() => events.seen.length === 1, { message: 'a progress event' });
    expect(events.seen[0]).toMatchObject({
      type: 'progress',
      id,
      name: 'progress.batch',
      attempt: 1,
      progress: { done: 1_000, total: 10_000 },
    });

    await waitFor(() => gates.has(id), { message: 'the job at its gate' });
    gates.get(id)!();
    const finished = await waitForJobState(jobs, id, 'completed');
    expect(finished.result).toEqual({ done: 10_000 });
    // Nine more calls within one interval: one more write, the last value, before the completion.
    expect(finished.progress).toEqual({ done: 10_000, total: 10_000 });
    await waitFor(() => events.seen.length === 2, { message: 'the final progress event' });
    expect(events.seen.map((e) => e.progress)).toEqual([
      { done: 1_000, total: 10_000 },
      { done: 10_000, total: 10_000 },
    ]);
  });

  it('refuses a value that is neither a number nor a plain JSON object: the attempt fails, saying why', async () => {
    const id = await jobs.performLater(BadProgressJob, {});
    const failed = await waitForJobState(jobs, id, 'failed');
    expect(failed.lastError).toMatchObject({
      name: 'InvalidArgumentError',
      message: expect.stringContaining(
        `ctx.progress of job "progress.bad" #${id}(): must be a number or a plain JSON object`,
      ) as string,
    });
    expect(failed.progress).toBeNull();
  });
});
