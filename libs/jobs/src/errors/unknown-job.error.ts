import { JobsError } from './jobs.error';

/** Recorded on a job row whose name no handler in this process is registered for. Never retried. */
export class UnknownJobError extends JobsError {
  constructor(readonly jobName: string) {
    super(
      `No @Job handler named "${jobName}" is registered in this process. The job class was renamed or ` +
        `removed; deploy a handler with that name and retry the job, or discard it.`,
    );
  }
}
