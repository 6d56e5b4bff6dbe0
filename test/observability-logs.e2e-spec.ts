import type { LoggerService } from '@nestjs/common';
import { TestingModule } from '@nestjs/testing';
import { ClsService } from 'nestjs-cls';
import { Job, JobContext, JobHandler, JobQueueService } from 'nestjs-tenant-jobs';
import { createTestDatabase, TestDatabase } from './support/database';
import { createJobsApp } from './support/jobs-app';
import { waitForJobState } from './support/jobs';
import { waitFor } from './support/wait-for';

@Job({ name: 'logs.greet', maxAttempts: 2, backoff: { type: 'fixed', baseMs: 10, jitter: 0 } })
class GreetJob implements JobHandler<{ secret: string }> {
  perform(_payload: { secret: string }, ctx: JobContext): string {
    if (ctx.attempt === 1) throw new Error('first attempt fails');
    return 'hello';
  }
}

/** A LoggerService that keeps every line with its level and context. */
class CapturingLogger implements LoggerService {
  readonly lines: Array<{ level: string; message: string; context: unknown }> = [];
  private keep = (level: string) => (message: unknown, context?: unknown) =>
    void this.lines.push({ level, message: String(message), context });
  log = this.keep('log');
  error = this.keep('error');
  warn = this.keep('warn');
  debug = this.keep('debug');
  verbose = this.keep('verbose');
}

describe('logs (logLevel and logger options)', () => {
  let db: TestDatabase;
  let app: TestingModule;
  const logger = new CapturingLogger();

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      jobs: { tenant: { clsKey: 'accountId' }, logLevel: 'debug', logger },
      providers: [GreetJob],
    });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('adds a debug line per attempt start and outcome (id, name, attempt, account, duration), never the payload', async () => {
    const cls = app.get(ClsService);
    const jobs = app.get(JobQueueService);
    const id = await cls.run(() => {
      cls.set('accountId', 'acc-9');
      return jobs.performLater(GreetJob, { secret: 'p@ssw0rd' });
    });
    await waitForJobState(jobs, id, 'completed');
    await waitFor(() => logger.lines.some((l) => l.message.includes(`#${id} completed`)), {
      message: 'the completion line',
    });
    const mine = logger.lines.filter((l) => l.level === 'debug' && l.message.includes(`#${id}`));
    expect(mine.map((l) => l.message.replace(/ran [\d.]+ ms/, 'ran N ms'))).toEqual([
      `Job logs.greet #${id} started (attempt 1/2, account acc-9)`,
      `Job logs.greet #${id} retrying (attempt 1/2, account acc-9, ran N ms)`,
      `Job logs.greet #${id} started (attempt 2/2, account acc-9)`,
      `Job logs.greet #${id} completed (attempt 2/2, account acc-9, ran N ms)`,
    ]);
    expect(mine.every((l) => l.context === 'JobWorker')).toBe(true);
    expect(logger.lines.some((l) => l.message.includes('p@ssw0rd'))).toBe(false);
  });
});
