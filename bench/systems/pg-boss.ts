/**
 * pg-boss 12 with LISTEN/NOTIFY on (`useListenNotify` on the instance, `notify: true` on the queue) and
 * batched fetches (`batchSize` 50). Its "concurrency" is `localConcurrency` fetch loops, each handing a
 * batch to the handler, which performs the batch's jobs concurrently. `burstWhenBatchFull` makes a loop
 * fetch again at once after a full batch; without it every loop waits for its polling interval (30 s
 * while NOTIFY is active) after each batch, which no-one draining a backlog would configure.
 */
import { PgBoss } from 'pg-boss';
import type { BenchSystem, JobSink, SetupOptions, SystemTarget } from './types';

const QUEUE = 'noop';
const BATCH_SIZE = 50;
const POOL_SIZE = 10;

export class PgBossSystem implements BenchSystem {
  private boss: PgBoss | undefined;
  private concurrency = 10;

  async setup(target: SystemTarget, { role, concurrency }: SetupOptions): Promise<void> {
    this.concurrency = concurrency;
    const boss = new PgBoss({
      connectionString: target.databaseUrl,
      max: POOL_SIZE,
      useListenNotify: true,
      // The producer leaves maintenance and cron to the worker instances (as a web process would).
      ...(role === 'producer' ? { supervise: false, schedule: false } : {}),
    });
    boss.on('error', (error: Error) => console.error(`[pg-boss] ${error.message}`));
    await boss.start();
    if (role === 'producer') await boss.createQueue(QUEUE, { notify: true });
    this.boss = boss;
  }

  async enqueueOne(n: number): Promise<void> {
    await this.requireBoss().send(QUEUE, { n });
  }

  async enqueueBulk(ns: readonly number[]): Promise<void> {
    await this.requireBoss().insert(
      QUEUE,
      ns.map((n) => ({ data: { n } })),
    );
  }

  async startWorkers(sink: JobSink): Promise<void> {
    await this.requireBoss().work<{ n: number }>(
      QUEUE,
      { batchSize: BATCH_SIZE, localConcurrency: this.concurrency, burstWhenBatchFull: true },
      async (jobs) => {
        await Promise.all(jobs.map(async (job) => sink(job.data.n)));
      },
    );
  }

  async stop(): Promise<void> {
    await this.boss?.offWork(QUEUE, { wait: true });
  }

  async teardown(): Promise<void> {
    await this.boss?.stop({ graceful: true, close: true });
    this.boss = undefined;
  }

  private requireBoss(): PgBoss {
    if (!this.boss) throw new Error('setup() first');
    return this.boss;
  }
}

/**
 * pg-boss for the noisy-neighbour scenario (`--scenarios noisy`): the configuration above (LISTEN/NOTIFY,
 * 10 fetch loops of batches of 50, `burstWhenBatchFull`) with every job in a group (`group: { id }`, the
 * account) and `groupConcurrency` on the worker: at most that many active jobs per group across all
 * workers, counted in the database at each fetch. It is pg-boss's answer to fairness (pg-boss#446): a cap
 * per group, not a share, so the cap must be below the worker's capacity (10 x 50 in flight) for other
 * groups to get in, and each fetch skips over the capped group's backlog.
 */
export class PgBossGroupedSystem {
  private boss: PgBoss | undefined;

  /** Connects, creates the queue (`notify: true`); the worker options come with `startWorkers`. */
  async setup(databaseUrl: string): Promise<void> {
    const boss = new PgBoss({
      connectionString: databaseUrl,
      max: POOL_SIZE,
      useListenNotify: true,
    });
    boss.on('error', (error: Error) => console.error(`[pg-boss] ${error.message}`));
    await boss.start();
    await boss.createQueue(QUEUE, { notify: true });
    this.boss = boss;
  }

  /** One batch, each job in its account's group. */
  async enqueue(items: ReadonlyArray<{ n: number; group: string }>): Promise<void> {
    await this.requireBoss().insert(
      QUEUE,
      items.map(({ n, group }) => ({ data: { n, group }, group: { id: group } })),
    );
  }

  /** 10 loops x batches of 50, polling every 0.5 s; `groupConcurrency` undefined: no cap. */
  async startWorkers(
    groupConcurrency: number | undefined,
    sink: (n: number, group: string) => void,
  ): Promise<void> {
    await this.requireBoss().work<{ n: number; group: string }>(
      QUEUE,
      {
        batchSize: BATCH_SIZE,
        localConcurrency: 10,
        burstWhenBatchFull: true,
        // A fetch that a group's cap left short is retried after the polling interval; no NOTIFY comes
        // when a capped group's job finishes. The shortest pg-boss accepts (0.5 s), with NOTIFY on too
        // (its default there is 30 s: measured, the big group's backlog then stalled for 30 s at a time).
        pollingIntervalSeconds: 0.5,
        notifyPollingIntervalSeconds: 0.5,
        ...(groupConcurrency === undefined ? {} : { groupConcurrency }),
      },
      async (jobs) => {
        await Promise.all(jobs.map(async (job) => sink(job.data.n, job.data.group)));
      },
    );
  }

  async teardown(): Promise<void> {
    await this.boss?.offWork(QUEUE, { wait: true });
    await this.boss?.stop({ graceful: true, close: true });
    this.boss = undefined;
  }

  private requireBoss(): PgBoss {
    if (!this.boss) throw new Error('setup() first');
    return this.boss;
  }
}
