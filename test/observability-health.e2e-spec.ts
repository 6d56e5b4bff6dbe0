import { SchedulerRegistry } from '@nestjs/schedule';
import request from 'supertest';
import { JobWorker } from 'nestjs-tenant-jobs';
import { ExampleApp, startExampleApp } from './support/example-app';

describe('health of the example app (GET /health, Terminus)', () => {
  let example: ExampleApp | undefined;

  beforeAll(async () => {
    example = await startExampleApp();
    for (const cron of example.app.get(SchedulerRegistry).getCronJobs().values()) await cron.stop();
  });

  afterAll(() => example?.close());

  it('is up while the worker runs, down once it is stopped, and up again when it restarts', async () => {
    const { http, app } = example!;
    const up = await request(http).get('/health').expect(200);
    expect(up.body).toMatchObject({
      status: 'ok',
      info: {
        jobs: {
          status: 'up',
          worker: 'running',
          database: 'up',
          listen: 'connected',
          oldestAvailableAgeMs: expect.any(Number) as number,
        },
      },
    });
    expect(up.body.info.jobs.heartbeatAgeMs).toBeGreaterThanOrEqual(0);

    const worker = app.get(JobWorker);
    await worker.stop();
    try {
      const down = await request(http).get('/health').expect(503);
      expect(down.body).toMatchObject({
        status: 'error',
        error: {
          jobs: { status: 'down', worker: 'stopped', message: 'the worker is not running' },
        },
      });
    } finally {
      await worker.start();
    }
    await request(http).get('/health').expect(200);
  });
});
