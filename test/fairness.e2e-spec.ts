import { Injectable } from '@nestjs/common';
import type { TestingModule } from '@nestjs/testing';
import { IsInt } from 'class-validator';
import {
  Job,
  JobContext,
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

/** Every start, in order: the job's account (`null`: global) and its priority. */
@Injectable()
class Starts {
  readonly log: Array<{ account: string | null; n: number }> = [];

  /** How many jobs of `account` had started before each start of a job of `others`. */
  startedBefore(account: string, others: (a: string | null) => boolean): number[] {
    let seen = 0;
    const before: number[] = [];
    for (const s of this.log) {
      if (s.account === account) seen++;
      else if (others(s.account)) before.push(seen);
    }
    return before;
  }
}

@Job({ name: 'fair.tenant', payload: NumberPayload })
class TenantJob implements JobHandler<NumberPayload> {
  constructor(private readonly starts: Starts) {}
  perform({ n }: NumberPayload, ctx: JobContext): void {
    this.starts.log.push({ account: ctx.accountId, n });
  }
}

@Job({ name: 'fair.global', payload: NumberPayload, tenant: 'none' })
class GlobalJob implements JobHandler<NumberPayload> {
  constructor(private readonly starts: Starts) {}
  perform({ n }: NumberPayload, ctx: JobContext): void {
    this.starts.log.push({ account: ctx.accountId, n });
  }
}

const SMALL = ['B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K'];
const isSmall = (a: string | null) => a === null || SMALL.includes(a);

function items(count: number, accountId: string, priority?: number) {
  return Array.from({ length: count }, (_, n) => ({ payload: { n }, accountId, priority }));
}

describe('fair claiming across accounts', () => {
  let db: TestDatabase;
  let app: TestingModule | undefined;

  beforeEach(async () => {
    db = await createTestDatabase();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await db?.drop();
  });

  /** A tenant app (concurrency 10, prefetch 10: a claim holds 20 jobs at most). */
  async function start(worker: NonNullable<JobsModuleOptions['worker']> = { fairness: 'account' }) {
    app = await createJobsApp({
      url: db.url,
      providers: [Starts, TenantJob, GlobalJob],
      jobs: {
        tenant: { clsKey: 'accountId' },
        worker: { concurrency: 10, prefetch: 10, ...worker },
      },
    });
    return { jobs: app.get(JobQueueService), starts: app.get(Starts) };
  }

  it("starts every small account's jobs before a large backlog of one account is a fifth drained", async () => {
    const { jobs, starts } = await start();
    const backlog = 5_000;
    await jobs.performAllLater(TenantJob, items(backlog, 'A'));
    // The backlog is being worked on when the small accounts (and a few global jobs) enqueue.
    await waitFor(() => starts.log.length >= 50, { message: "A's backlog to be draining" });
    for (const account of SMALL) await jobs.performAllLater(TenantJob, items(20, account));
    await jobs.performAllLater(
      GlobalJob,
      Array.from({ length: 20 }, (_, n) => ({ payload: { n } })),
    );
    await waitFor(() => starts.log.filter((s) => isSmall(s.account)).length === 220, {
      message: 'every small-account and global job to start',
      timeoutMs: 60_000,
    });
    const aBefore = starts.startedBefore('A', isSmall);
    expect(aBefore).toHaveLength(220);
    // Every one of them started while more than 80% of A's backlog was still waiting.
    expect(Math.max(...aBefore)).toBeLessThan(backlog * 0.2);
    // And A was not starved meanwhile: it kept getting its share.
    expect(aBefore[aBefore.length - 1]).toBeGreaterThan(50);
  }, 90_000);

  it('serves a lower priority number first, whatever the account', async () => {
    const { jobs, starts } = await start();
    await jobs.performAllLater(TenantJob, items(400, 'A'));
    await waitFor(() => starts.log.length >= 20, { message: "A's jobs to be running" });
    // B has the most to gain from fairness, but a worse priority: it waits for A's backlog.
    await jobs.performAllLater(TenantJob, items(20, 'B', 5));
    // C has a better priority: its jobs go first, ahead of A's backlog.
    const aAtC = starts.log.length;
    await jobs.performAllLater(TenantJob, items(10, 'C', -1));
    await waitFor(() => starts.log.length === 430, {
      message: 'every job to start',
      timeoutMs: 30_000,
    });
    const accounts = starts.log.map((s) => s.account);
    expect(accounts.lastIndexOf('A')).toBeLessThan(accounts.indexOf('B'));
    // Of A's jobs, only those already claimed when C enqueued (a claim holds 20; one more may have
    // been out) started before C's.
    expect(Math.max(...starts.startedBefore('A', (a) => a === 'C'))).toBeLessThanOrEqual(aAtC + 40);
  }, 60_000);

  it('with fairness off, claims first come first served, as before', async () => {
    const { jobs, starts } = await start({ fairness: false });
    await jobs.performAllLater(TenantJob, items(1_000, 'A'));
    await waitFor(() => starts.log.length >= 20, { message: "A's jobs to be running" });
    for (const account of SMALL) await jobs.performAllLater(TenantJob, items(5, account));
    await waitFor(() => starts.log.length === 1_050, {
      message: 'every job to start',
      timeoutMs: 30_000,
    });
    // Every small account's job waited for all of A's: the order of enqueueing.
    expect(starts.startedBefore('A', isSmall).every((before) => before === 1_000)).toBe(true);
  }, 60_000);
});
