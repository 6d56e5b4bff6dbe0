import { TestingModule } from '@nestjs/testing';
import { IsInt, IsString, Min } from 'class-validator';
import {
  InvalidEnqueueOptionsError,
  InvalidPayloadError,
  Job,
  JobContext,
  JobHandler,
  JobQueueService,
} from '@app/jobs';
import { createTestDatabase, TestDatabase } from './support/database';
import { createJobsApp } from './support/jobs-app';
import { waitForJobState } from './support/jobs';

class AddPayload {
  @IsInt() a: number;
  @IsInt() @Min(0) b: number;
}

const performed: Array<{ id: string; payload: unknown }> = [];

@Job({ name: 'math.add', payload: AddPayload, tenant: 'none' })
class AddJob implements JobHandler<AddPayload, number> {
  perform(payload: AddPayload, ctx: JobContext): number {
    performed.push({ id: ctx.id, payload });
    return payload.a + payload.b;
  }
}

class GreetPayload {
  @IsString() name: string;
}

@Job({ name: 'greet', payload: GreetPayload, tenant: 'none', maxAttempts: 1 })
class FailingJob implements JobHandler<GreetPayload> {
  perform(payload: GreetPayload): void {
    throw new Error(`cannot greet ${payload.name}`);
  }
}

describe('JobQueueService against PostgreSQL', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let jobs: JobQueueService;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({ url: db.url, providers: [AddJob, FailingJob] });
    jobs = app.get(JobQueueService);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('performs an enqueued job and records its result and timings', async () => {
    const id = await jobs.performLater(AddJob, { a: 2, b: 3 });
    const job = await waitForJobState(jobs, id, 'completed');
    expect(job.result).toBe(5);
    expect(job.attempts).toBe(1);
    expect(job.durationMs).toBeGreaterThanOrEqual(0);
    expect(performed.find((p) => p.id === id)?.payload).toBeInstanceOf(AddPayload);
  });

  it('records the failure message and stack of a failed job', async () => {
    const id = await jobs.performLater(FailingJob, { name: 'Ada' });
    const job = await waitForJobState(jobs, id, 'failed');
    expect(job.lastError?.message).toBe('cannot greet Ada');
    expect(job.lastError?.stack).toContain('FailingJob');
  });

  it('rejects an invalid payload with the job name and every failing field, writing nothing', async () => {
    const before = await jobs.countByState();
    const error = await jobs
      .performLater(AddJob, { a: 'x', b: -1 } as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect((error as InvalidPayloadError).message).toContain('"math.add"');
    expect((error as InvalidPayloadError).fields.map((f) => f.field)).toEqual(['a', 'b']);
    expect(await jobs.countByState()).toEqual(before);
  });

  it('rejects invalid enqueue options with the job and option named, writing nothing', async () => {
    const before = await jobs.countByState();
    const cases: Array<[Parameters<JobQueueService['performLater']>[2], RegExp]> = [
      [{ runAt: new Date('not a date') }, /"runAt" for job "math.add": must be a valid Date/],
      [{ delayMs: -5 }, /"delayMs" .*non-negative/],
      [{ priority: 1.5 }, /"priority" .*integer/],
      [{ maxAttempts: 0 }, /"maxAttempts" .*positive integer/],
      [{ queue: '' }, /"queue" .*non-empty/],
    ];
    for (const [options, message] of cases) {
      const error = await jobs
        .performLater(AddJob, { a: 1, b: 1 }, options)
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidEnqueueOptionsError);
      expect((error as Error).message).toMatch(message);
    }
    await expect(
      jobs.performAllLater(AddJob, [
        { payload: { a: 1, b: 1 } },
        { payload: { a: 1, b: 1 }, delayMs: NaN },
      ]),
    ).rejects.toThrow(/"\[1\]\.delayMs"/);
    expect(await jobs.countByState()).toEqual(before);
  });
});
