import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { IsInt } from 'class-validator';
import { ClsService } from 'nestjs-cls';
import {
  ForeignAccountError,
  Job,
  JobContext,
  JobFlowControl,
  JobHandler,
  JobQueueService,
  JobsModuleOptions,
} from 'nestjs-tenant-jobs';
import { createTestDatabase, TestDatabase } from './support/database';
import { createJobsApp } from './support/jobs-app';
import { waitFor } from './support/wait-for';

class NumberPayload {
  @IsInt() n: number;
}

const POLL_MS = 100;

/** Every start, in every app of a test: the job's queue and account, and when it started. */
const starts: Array<{ queue: string; account: string | null; at: number }> = [];

/** A job that takes a few milliseconds, so a backlog stays a backlog while the test acts. */
@Injectable()
@Job({ name: 'pause.work', queue: 'work', payload: NumberPayload })
class WorkJob implements JobHandler<NumberPayload> {
  async perform(_: NumberPayload, ctx: JobContext): Promise<void> {
    starts.push({ queue: 'work', account: ctx.accountId, at: Date.now() });
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

@Injectable()
@Job({ name: 'pause.other', queue: 'other', payload: NumberPayload })
class OtherJob implements JobHandler<NumberPayload> {
  perform(_: NumberPayload, ctx: JobContext): void {
    starts.push({ queue: 'other', account: ctx.accountId, at: Date.now() });
  }
}

function items(count: number, accountId: string) {
  return Array.from({ length: count }, (_, n) => ({ payload: { n }, accountId }));
}

/** Absence can only be seen by letting time pass: a wait with the workers running, not a sleep for a state. */
const lettingWorkersRun = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('pause and resume across workers', () => {
  let db: TestDatabase;
  const apps: TestingModule[] = [];

  beforeEach(async () => {
    starts.length = 0;
    db = await createTestDatabase();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await db?.drop();
  });

  /** A tenant worker app; the suite's first app claims fairly, the second in plain order. */
  async function start(worker: NonNullable<JobsModuleOptions['worker']> = {}) {
    const app = await createJobsApp({
      url: db.url,
      providers: [WorkJob, OtherJob],
      jobs: {
        tenant: { clsKey: 'accountId' },
        worker: { concurrency: 5, prefetch: 20, pollIntervalMs: POLL_MS, ...worker },
      },
    });
    apps.push(app);
    return { jobs: app.get(JobQueueService), flow: app.get(JobFlowControl), app };
  }

  const startTwo = async () => {
    const first = await start({ fairness: 'account' });
    await start({ fairness: false });
    return first;
  };

  const startedAfter = (at: number, filter: (s: (typeof starts)[number]) => boolean) =>
    starts.filter((s) => s.at > at && filter(s)).length;

  it('a paused queue starts nothing on any worker within one poll interval; resumed, it drains', async () => {
    const { jobs, flow } = await startTwo();
    await jobs.performAllLater(WorkJob, items(3_000, 'A'));
    await waitFor(() => starts.length >= 100, { message: 'the backlog to be draining' });

    expect(await flow.pauseQueue('work')).toBe(true);
    expect(await flow.pauseQueue('work')).toBe(false); // idempotent
    const pausedAt = Date.now();
    await jobs.performAllLater(OtherJob, items(20, 'B'));
    await waitFor(() => starts.filter((s) => s.queue === 'other').length === 20, {
      message: 'the other queue to keep running',
    });
    await lettingWorkersRun(POLL_MS * 5);
    // Jobs already running finish, and a claim in flight may start its jobs in the same instant;
    // nothing starts once a poll interval has passed.
    expect(startedAfter(pausedAt + POLL_MS, (s) => s.queue === 'work')).toBe(0);

    const counts = await jobs.countByState();
    const work = counts.find((c) => c.queue === 'work' && c.state === 'available');
    expect(work).toMatchObject({ paused: true });
    expect(work!.count).toBeGreaterThan(1_000);
    expect(counts.filter((c) => c.queue === 'other').every((c) => !c.paused)).toBe(true);
    expect(await flow.listPaused()).toEqual([
      { kind: 'queue', key: 'work', pausedAt: expect.any(Date) },
    ]);

    expect(await flow.resumeQueue('work')).toBe(true);
    expect(await flow.resumeQueue('work')).toBe(false);
    await waitFor(
      async () => (await jobs.countByState()).every((c) => c.state === 'completed' && !c.paused),
      { message: 'the resumed queue to drain', timeoutMs: 60_000 },
    );
    expect(await flow.listPaused()).toEqual([]);
  }, 90_000);

  it("a paused account's jobs wait in every queue while other accounts run, and stay paused across a restart", async () => {
    const { jobs, flow } = await startTwo();
    expect(await flow.pauseAccount('A')).toBe(true);
    const pausedAt = Date.now();
    await jobs.performAllLater(WorkJob, items(100, 'A'));
    await jobs.performAllLater(OtherJob, items(10, 'A'));
    await jobs.performAllLater(WorkJob, items(100, 'B'));
    await waitFor(() => starts.filter((s) => s.account === 'B').length === 100, {
      message: "B's jobs to run",
    });
    await lettingWorkersRun(POLL_MS * 3);
    expect(startedAfter(pausedAt, (s) => s.account === 'A')).toBe(0);

    // A restart of every worker: the pause is a row, not a worker's memory.
    await Promise.all(apps.splice(0).map((app) => app.close()));
    const restarted = await startTwo();
    expect(await restarted.flow.listPaused()).toEqual([
      { kind: 'account', key: 'A', pausedAt: expect.any(Date) },
    ]);
    await restarted.jobs.performAllLater(OtherJob, items(5, 'C'));
    await waitFor(() => starts.filter((s) => s.account === 'C').length === 5, {
      message: 'the restarted workers to claim',
    });
    await lettingWorkersRun(POLL_MS * 3);
    expect(starts.filter((s) => s.account === 'A')).toHaveLength(0);

    expect(await restarted.flow.resumeAccount('A')).toBe(true);
    await waitFor(() => starts.filter((s) => s.account === 'A').length === 110, {
      message: "A's jobs to run once resumed",
      timeoutMs: 30_000,
    });
  }, 90_000);

  it("pausing a busy account hands back the worker's buffered jobs of that account", async () => {
    // One worker with a deep buffer: what it already claimed must not start once paused.
    const { jobs, flow } = await start({ concurrency: 2, prefetch: 200 });
    await jobs.performAllLater(WorkJob, items(1_000, 'A'));
    await waitFor(() => starts.length >= 20, { message: "A's jobs to be running" });
    await flow.pauseAccount('A');
    const pausedAt = Date.now();
    await lettingWorkersRun(POLL_MS * 3);
    expect(startedAfter(pausedAt + POLL_MS, () => true)).toBe(0);
    const available = await waitFor(async () => {
      const counts = await jobs.countByState();
      return counts.find((c) => c.state === 'available' && c.count > 900);
    });
    expect(available.paused).toBe(false); // the queue is not paused; its account is
  }, 60_000);

  it("inside an account's context, listPaused shows the queues and that account, and another account cannot be paused", async () => {
    const { flow, app } = await start();
    await flow.pauseAccount('A');
    await flow.pauseAccount('B');
    await flow.pauseQueue('other');
    const cls = app.get(ClsService);
    const inAccount = <T>(id: string, fn: () => Promise<T>) =>
      cls.run(() => {
        cls.set('accountId', id);
        return fn();
      });
    const seen = await inAccount('A', () => flow.listPaused());
    expect(seen.map((e) => [e.kind, e.key])).toEqual([
      ['queue', 'other'],
      ['account', 'A'],
    ]);
    await expect(inAccount('A', () => flow.resumeAccount('B'))).rejects.toBeInstanceOf(
      ForeignAccountError,
    );
    await expect(inAccount('A', () => flow.resumeAccount('A'))).resolves.toBe(true);
    expect((await flow.listPaused()).map((e) => e.key)).toEqual(['other', 'B']);
  });
});
