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
import { fairClaimSql } from 'nestjs-tenant-jobs/persistence/sql/fair-claim.sql';
import { createTestDatabase, TestDatabase, withClient } from './support/database';
import { createJobsApp } from './support/jobs-app';
import { waitFor } from './support/wait-for';

class NumberPayload {
  @IsInt() n: number;
}

/** Orders the starts of several apps in this process. */
let sequence = 0;

/** Every start, in order: the job's account (`null`: global) and its number. */
@Injectable()
class Starts {
  readonly log: Array<{ account: string | null; n: number; seq: number }> = [];

  /** The starts of several apps' logs, in the order they happened. */
  static merged(...all: Starts[]): Starts {
    const merged = new Starts();
    merged.log.push(...all.flatMap((s) => s.log).sort((a, b) => a.seq - b.seq));
    return merged;
  }

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
    this.starts.log.push({ account: ctx.accountId, n, seq: sequence++ });
  }
}

@Job({ name: 'fair.global', payload: NumberPayload, tenant: 'none' })
class GlobalJob implements JobHandler<NumberPayload> {
  constructor(private readonly starts: Starts) {}
  perform({ n }: NumberPayload, ctx: JobContext): void {
    this.starts.log.push({ account: ctx.accountId, n, seq: sequence++ });
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
    // All ten in one statement: one account per call would let A drain while the calls are on their way.
    await jobs.performAllLater(
      TenantJob,
      SMALL.flatMap((account) => items(20, account)),
    );
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

  // X = 80%: the small accounts' 200 jobs need about 200 x 11/10 claim slots, during which A gets a
  // share of one in eleven; what A can start before them is that share, what the two workers had
  // already claimed (2 x 20), and what started while the enqueue was on its way: about 10% of the
  // backlog on a busy machine, so 20% is a bound with room to spare that plain order (100%) misses.
  it("with two worker apps on one database and the default options, starts every small account's jobs before A's backlog is a fifth drained", async () => {
    const logs = [new Starts(), new Starts()];
    const worker = (starts: Starts) =>
      createJobsApp({
        url: db.url,
        providers: [{ provide: Starts, useValue: starts }, TenantJob, GlobalJob],
        // No `fairness` option: a tenant app claims fairly by default.
        jobs: { tenant: { clsKey: 'accountId' }, worker: { concurrency: 10, prefetch: 10 } },
      });
    const first = await worker(logs[0]);
    const second = await worker(logs[1]).catch(async (error: unknown) => {
      await first.close();
      throw error;
    });
    const started = (of = (_: string | null) => true) =>
      logs.reduce((sum, l) => sum + l.log.filter((s) => of(s.account)).length, 0);
    try {
      const jobs = first.get(JobQueueService);
      const backlog = 5_000;
      await jobs.performAllLater(TenantJob, items(backlog, 'A'));
      await waitFor(() => started() >= 50, { message: "A's backlog to be draining" });
      // Ten accounts at once, one statement: their jobs are claimable from the same moment.
      await jobs.performAllLater(
        TenantJob,
        SMALL.flatMap((account) => items(20, account)),
      );
      await waitFor(() => started(isSmall) === 200, {
        message: 'every small-account job to start',
        timeoutMs: 60_000,
      });
      const aBefore = Starts.merged(...logs).startedBefore('A', isSmall);
      expect(aBefore).toHaveLength(200);
      expect(Math.max(...aBefore)).toBeLessThan(backlog * 0.2);
      await waitFor(() => started() === backlog + 200, {
        message: 'the whole backlog to start',
        timeoutMs: 60_000,
      });
      // Both workers took part.
      for (const log of logs) expect(log.log.length).toBeGreaterThan(0);
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  }, 120_000);

  it('serves a lower priority number first, whatever the account', async () => {
    const { jobs, starts } = await start();
    await jobs.performAllLater(TenantJob, items(400, 'A'));
    await waitFor(() => starts.log.length >= 20, { message: "A's jobs to be running" });
    // B has the most to gain from fairness, but a worse priority: it waits for A's backlog.
    await jobs.performAllLater(TenantJob, items(20, 'B', 5));
    // C has a better priority: its jobs go first, ahead of A's backlog. (Counted once C's jobs are
    // committed: A's jobs keep starting while the enqueue is on its way.)
    await jobs.performAllLater(TenantJob, items(10, 'C', -1));
    const aAtC = starts.log.filter((s) => s.account === 'A').length;
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

/** A node of `explain (format json)`. */
interface PlanNode {
  'Node Type': string;
  'Subplan Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

/** Each CTE of a plan (`CTE name`) with the node types and indexes below it (not in nested CTEs). */
function ctesOf(plan: PlanNode): Map<string, string[]> {
  const ctes = new Map<string, string[]>();
  const walk = (node: PlanNode, cte: string) => {
    const name = node['Subplan Name']?.startsWith('CTE ') ? node['Subplan Name'].slice(4) : cte;
    const seen = ctes.get(name) ?? [];
    seen.push(node['Index Name'] ?? node['Node Type']);
    ctes.set(name, seen);
    for (const child of node.Plans ?? []) walk(child, name);
  };
  walk(plan, '');
  return ctes;
}

describe('the fair claim statement', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
    // Migrated by an app with no worker, then closed: only the schema is wanted.
    const migrated = await createJobsApp({ url: db.url, jobs: { worker: { enabled: false } } });
    await migrated.close();
  });

  afterAll(async () => {
    await db?.drop();
  });

  // A backlog the statistics do not know about (a table never analyzed, or analyzed while it held
  // only finished jobs) once made the planner read the lanes through jobs_claim_idx and sort each
  // priority's whole backlog once per lane: 0.5 s a claim for 20,000 jobs, 30x slower than the plain
  // claim. The worker plans its statements generically once per connection, so that choice stuck.
  // (On a smaller backlog the planner happened to choose right: the fair index was one level shallower.)
  it.each([
    ['a table never analyzed', false],
    ['a table analyzed while it held only finished jobs', true],
  ])(
    'reads every lane through the fair index on %s',
    async (_label, history) => {
      await withClient(db.url, async (c) => {
        await c.query('truncate jobs.jobs');
        if (history) {
          await c.query(`
            insert into jobs.jobs (name, account_id, state, finished_at)
            select 'fair.tenant', 'acct-' || (g % 100), 'completed', now()
            from generate_series(1, 20000) g`);
          await c.query('analyze jobs.jobs');
        }
        await c.query(`
          insert into jobs.jobs (name, payload, account_id)
          select 'fair.tenant', jsonb_build_object('n', g), 'acct-' || (g % 100)
          from generate_series(1, 20000) g`);
        // As the worker's pool runs it: prepared, planned once for any parameters; each of the four
        // statements the worker may run (a queue filter, the paused lists, both, neither).
        await c.query('set plan_cache_mode = force_generic_plan');
        for (const queues of [false, true]) {
          for (const paused of [false, true]) {
            const types = ['int', 'text', 'int', ...(queues ? ['text[]'] : []), 'text', 'text'];
            const values = ['500', `'w'`, '60000', ...(queues ? [`'{default}'`] : []), `''`, `''`];
            if (paused) types.push('text[]', 'text[]');
            if (paused) values.push(`'{}'`, `'{acct-7}'`);
            await c.query(
              `prepare fair(${types.join(', ')}) as ${fairClaimSql('jobs', queues, paused)}`,
            );
            try {
              const { rows } = await c.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
                `explain (format json) execute fair(${values.join(', ')})`,
              );
              const ctes = ctesOf(rows[0]['QUERY PLAN'][0].Plan);
              for (const cte of ['after_cursor', 'before_cursor', 'fair']) {
                const used = (ctes.get(cte) ?? []).filter(
                  (n) => n.startsWith('jobs_') || n === 'Sort',
                );
                expect({ queues, paused, cte, used: [...new Set(used)] }).toEqual({
                  queues,
                  paused,
                  cte,
                  used: ['jobs_fair_claim_idx'],
                });
              }
            } finally {
              await c.query('deallocate fair');
            }
          }
        }
      });
    },
    30_000,
  );
});
