import { JobsError } from './jobs.error';

/** The abort reason of `ctx.signal` when the worker shuts down before the job finished. The job is returned to the queue. */
export class WorkerShutdownError extends JobsError {
  constructor() {
    super(
      'The worker is shutting down; this attempt was aborted and the job returned to the queue.',
    );
  }
}
