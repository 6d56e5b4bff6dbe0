import { JobsError } from './jobs.error';

/** The abort reason of `ctx.signal` when `JobQueueService.cancel()` cancels a running job. */
export class JobCancelledError extends JobsError {
  constructor(readonly jobId: string) {
    super(`Job ${jobId} was cancelled while it ran.`);
  }
}
