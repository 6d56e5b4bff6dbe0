/**
 * BullMQ 6 on the local Redis (`BENCH_REDIS_URL`, default redis://127.0.0.1:6379), defaults otherwise
 * (completed jobs are kept, as ours keeps completed rows). Each phase uses its own queue name under the
 * `benchq` key prefix; the producer obliterates the queue at teardown and then deletes any key left
 * under its name.
 */
import { Queue, Worker } from 'bullmq';
import { deleteQueueKeys, KEY_PREFIX, redisUrl } from '../support/redis';
import type { BenchSystem, JobSink, SetupOptions, SystemTarget } from './types';

const JOB_NAME = 'noop';

export class BullMqSystem implements BenchSystem {
  private queue: Queue | undefined;
  private worker: Worker | undefined;
  private queueName = '';
  private role: SetupOptions['role'] = 'producer';
  private concurrency = 10;

  async setup(target: SystemTarget, { role, concurrency }: SetupOptions): Promise<void> {
    this.queueName = target.queueName;
    this.role = role;
    this.concurrency = concurrency;
    if (role === 'producer') {
      this.queue = new Queue(target.queueName, { connection: connection(), prefix: KEY_PREFIX });
      await this.queue.waitUntilReady();
    }
  }

  async enqueueOne(n: number): Promise<void> {
    await this.requireQueue().add(JOB_NAME, { n });
  }

  async enqueueBulk(ns: readonly number[]): Promise<void> {
    await this.requireQueue().addBulk(ns.map((n) => ({ name: JOB_NAME, data: { n } })));
  }

  async startWorkers(sink: JobSink): Promise<void> {
    const worker = new Worker(
      this.queueName,
      async (job) => {
        sink((job.data as { n: number }).n);
      },
      {
        connection: connection(),
        prefix: KEY_PREFIX,
        concurrency: this.concurrency,
        autorun: false,
      },
    );
    worker.on('error', (error) => console.error(`[bullmq] ${error.message}`));
    await worker.waitUntilReady();
    void worker.run();
    this.worker = worker;
  }

  async stop(): Promise<void> {
    await this.worker?.close();
    this.worker = undefined;
  }

  async teardown(): Promise<void> {
    await this.stop();
    if (this.queue && this.role === 'producer') {
      await this.queue.obliterate({ force: true });
      await this.queue.close();
      await deleteQueueKeys(this.queueName);
    }
    this.queue = undefined;
  }

  private requireQueue(): Queue {
    if (!this.queue) throw new Error('setup() as producer first');
    return this.queue;
  }
}

function connection() {
  const url = new URL(redisUrl());
  return {
    host: url.hostname,
    port: Number(url.port || 6379),
    db: url.pathname.length > 1 ? Number(url.pathname.slice(1)) : 0,
    maxRetriesPerRequest: null,
  };
}
