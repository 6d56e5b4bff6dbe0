/*
 * Idle latency (issue 16, item 3): a worker woken by the NOTIFY of an enqueue claims on the LISTEN
 * connection that delivered it, whose server process is awake, instead of a pooled one that has been
 * idle. Checked on the real server with a poll interval longer than the test:
 * the jobs run with only NOTIFYs to wake the worker, and the connection keeps listening after the claims
 * it ran.
 */
import { TestingModule } from '@nestjs/testing';
import { Job, JobHandler, JobQueueService, JobWorker } from 'nestjs-tenant-jobs';
import { createTestDatabase, TestDatabase } from './support/database';
import { createJobsApp } from './support/jobs-app';
import { waitForJobState } from './support/jobs';
import { waitFor } from './support/wait-for';

@Job({ name: 'idle.ping', tenant: 'none' })
class PingJob implements JobHandler<{ n: number }, number> {
  perform(payload: { n: number }): number {
    return payload.n;
  }
}

describe('idle claim', () => {
  let db: TestDatabase;
  let app: TestingModule | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('runs the claim after a NOTIFY on the LISTEN connection, and the job completes', async () => {
    // A long poll interval: only a NOTIFY can wake the worker within the test.
    app = await createJobsApp({
      url: db.url,
      providers: [PingJob],
      jobs: { worker: { pollIntervalMs: 60_000 } },
    });
    const jobs = app.get(JobQueueService);
    await waitFor(() => app!.get(JobWorker).listening || undefined, { message: 'LISTEN up' });
    // Each job after the first is claimed on the connection that ran the previous claim: it keeps
    // delivering notifications.
    for (let n = 1; n <= 3; n++) {
      const id = await jobs.performLater(PingJob, { n });
      expect((await waitForJobState(jobs, id, 'completed')).result).toBe(n);
    }
  });
});
