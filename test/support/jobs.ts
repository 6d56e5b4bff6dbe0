import { JobQueueService, JobRecord, JobState } from 'nestjs-tenant-jobs';
import { waitFor, WaitForOptions } from './wait-for';

/**
 * Polls `jobs.find(id)` until the job is in `state` and returns it; rejects after the timeout (default
 * 10 s, see `waitFor`) with an error naming the job and the state.
 */
export function waitForJobState(
  jobs: JobQueueService,
  id: string,
  state: JobState,
  options: WaitForOptions = {},
): Promise<JobRecord> {
  return waitFor(
    async () => {
      const job = await jobs.find(id);
      return job?.state === state ? job : undefined;
    },
    { message: `job ${id} to be ${state}`, ...options },
  );
}
