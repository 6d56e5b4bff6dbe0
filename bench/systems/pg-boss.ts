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
