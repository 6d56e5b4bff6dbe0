import { JobsError } from './jobs.error';

/** Thrown by operations that address one job by id when there is no such job. */
export class JobNotFoundError extends JobsError {
  constructor(readonly jobId: string) {
    super(`No job with id ${jobId}.`);
  }
}
