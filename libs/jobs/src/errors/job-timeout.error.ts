import { JobsError } from './jobs.error';

/** The attempt ran longer than the job's `timeoutMs`; its `ctx.signal` was aborted. Retried per policy. */
export class JobTimeoutError extends JobsError {
  constructor(
    readonly jobName: string,
    readonly timeoutMs: number,
  ) {
    super(`Job "${jobName}" timed out after ${timeoutMs} ms.`);
  }
}
