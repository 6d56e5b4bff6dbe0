/**
 * graphile-worker 0.18. Two configurations: its defaults (with concurrency 10: the default is 1), and its
 * documented fast config (`preset.worker.localQueue.size` 500, `completeJobBatchDelay` 0,
 * `failJobBatchDelay` 0: see worker.graphile.org/docs/performance). Logging is limited to warnings and
 * errors: its default logger prints a line per completed job.
 */
import { Logger, makeWorkerUtils, run, type Runner, type WorkerUtils } from 'graphile-worker';
import { Pool } from 'pg';
import type { BenchSystem, JobSink, SetupOptions, SystemTarget } from './types';

const TASK = 'noop';
const POOL_SIZE = 10;

export interface GraphileConfig {
  fast: boolean;
  /** `false` through PgBouncer in transaction mode (its documented setting for such poolers). */
  preparedStatements?: boolean;
}

const quietLogger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning') console.error(`[graphile-worker] ${message}`);
});

export class GraphileWorkerSystem implements BenchSystem {
  private pool: Pool | undefined;
  private utils: WorkerUtils | undefined;
  private runner: Runner | undefined;
  private concurrency = 10;

  constructor(private readonly config: GraphileConfig) {}

  async setup(target: SystemTarget, { concurrency }: SetupOptions): Promise<void> {
    this.concurrency = concurrency;
    this.pool = new Pool({ connectionString: target.databaseUrl, max: POOL_SIZE });
    const onError = (error: Error) => console.error(`[graphile-worker pool] ${error.message}`);
    this.pool.on('error', onError);
    this.pool.on('connect', (client) => client.on('error', onError));
    this.utils = await makeWorkerUtils({
      pgPool: this.pool,
      logger: quietLogger,
      ...(this.config.preparedStatements === false ? { noPreparedStatements: true } : {}),
    });
    await this.utils.migrate();
  }

  async enqueueOne(n: number): Promise<void> {
    await this.requireUtils().addJob(TASK, { n });
  }

  async enqueueBulk(ns: readonly number[]): Promise<void> {
    await this.requireUtils().addJobs(ns.map((n) => ({ identifier: TASK, payload: { n } })));
  }

  async startWorkers(sink: JobSink): Promise<void> {
    this.runner = await run({
      pgPool: this.pool,
      concurrency: this.concurrency,
      noHandleSignals: true,
      logger: quietLogger,
      crontab: '',
      ...(this.config.preparedStatements === false ? { noPreparedStatements: true } : {}),
      taskList: {
        [TASK]: async (payload) => {
          sink((payload as { n: number }).n);
        },
      },
      preset: this.config.fast
        ? { worker: { localQueue: { size: 500 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } }
        : undefined,
    });
  }

  async stop(): Promise<void> {
    await this.runner?.stop();
    this.runner = undefined;
  }

  async teardown(): Promise<void> {
    await this.stop();
    await this.utils?.release();
    await this.pool?.end();
    this.utils = undefined;
    this.pool = undefined;
  }

  private requireUtils(): WorkerUtils {
    if (!this.utils) throw new Error('setup() first');
    return this.utils;
  }
}
