import { SchedulerRegistry } from '@nestjs/schedule';
import request from 'supertest';
import { JobWorker } from 'nestjs-tenant-jobs';
import { ExampleApp, startExampleApp } from './support/example-app';
import { waitForJobState } from './support/jobs';
import { waitFor } from './support/wait-for';

/**
 * The value of the first sample of `metric` whose labels include all of `labels`, or undefined. A name
 * with `{unit}` matches with and without the unit suffix (exporters differ in appending it).
 */
function sample(text: string, metric: string, labels: Record<string, string>): number | undefined {
  if (metric.includes('{unit}'))
    return (
      sample(text, metric.replace('{unit}', ''), labels) ??
      sample(text, metric.replace('{unit}', '_seconds'), labels)
    );
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${metric}{`) && !line.startsWith(`${metric} `)) continue;
    const wanted = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (wanted) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

describe('metrics of the example app (GET /metrics, Prometheus)', () => {
  let example: ExampleApp | undefined;

  beforeAll(async () => {
    example = await startExampleApp();
    for (const cron of example.app.get(SchedulerRegistry).getCronJobs().values()) await cron.stop();
  });

  afterAll(() => example?.close());

  const scrape = async (): Promise<string> => {
    const res = await request(example!.http).get('/metrics').expect(200);
    expect(res.headers['content-type']).toContain('text/plain');
    return res.text;
  };

  it('counts an order confirmation from enqueue to completion, with its durations', async () => {
    const { http, jobs } = example!;
    const account = await request(http).post('/accounts').send({ name: 'Metrics Co' }).expect(201);
    const order = await request(http)
      .post('/orders')
      .set({ 'x-account-id': account.body.id as string })
      .send({ item: 'Teapot', quantity: 1, email: 'ada@example.com' })
      .expect(201);
    await waitForJobState(jobs, order.body.jobId as string, 'completed', { timeoutMs: 15_000 });

    const labels = { jobs_name: 'orders.confirm', jobs_queue: 'default' };
    const text = await waitFor(
      async () => {
        const t = await scrape();
        return sample(t, 'jobs_completed_total', labels) === 1 ? t : undefined;
      },
      { message: 'jobs_completed_total of orders.confirm to be 1' },
    );
    expect(sample(text, 'jobs_enqueued_total', labels)).toBe(1);
    expect(sample(text, 'jobs_started_total', labels)).toBe(1);
    expect(sample(text, 'jobs_completed_total', { ...labels, jobs_outcome: 'completed' })).toBe(1);
    expect(
      sample(text, 'jobs_attempt_duration{unit}_count', { ...labels, jobs_outcome: 'completed' }),
    ).toBe(1);
    expect(sample(text, 'jobs_queue_wait{unit}_count', labels)).toBe(1);
    expect(sample(text, 'jobs_queue_wait{unit}_sum', labels)).toBeGreaterThanOrEqual(0);
    expect(text).not.toContain('account'); // metrics never carry the account
  });

  it('shows the queue depth and the oldest due job while the worker is stopped', async () => {
    const { http, app } = example!;
    const worker = app.get(JobWorker);
    await worker.stop();
    try {
      const account = await request(http).post('/accounts').send({ name: 'Backlog' }).expect(201);
      for (let i = 0; i < 2; i++)
        await request(http)
          .post('/orders')
          .set({ 'x-account-id': account.body.id as string })
          .send({ item: 'Cup', quantity: 1, email: 'grace@example.com' })
          .expect(201);
      // The gauges read the database at most every 5 s (cached): wait for a fresh read.
      const text = await waitFor(
        async () => {
          const t = await scrape();
          const depth = sample(t, 'jobs_queue_depth', {
            jobs_queue: 'default',
            jobs_state: 'available',
          });
          return depth !== undefined && depth >= 2 ? t : undefined;
        },
        { message: 'jobs_queue_depth of default to show 2 available jobs', timeoutMs: 15_000 },
      );
      expect(
        sample(text, 'jobs_queue_oldest_age{unit}', { jobs_queue: 'default' }),
      ).toBeGreaterThanOrEqual(0);
    } finally {
      await worker.start();
    }
    // Drained: the queue's series stays, at 0.
    await waitFor(
      async () =>
        sample(await scrape(), 'jobs_queue_depth', {
          jobs_queue: 'default',
          jobs_state: 'available',
        }) === 0,
      { message: 'jobs_queue_depth of default back to 0', timeoutMs: 15_000 },
    );
  }, 40_000);
});
