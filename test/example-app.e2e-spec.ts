/**
 * The example shop (apps/example) end to end: HTTP requests enqueue jobs that the in-process worker runs
 * in the account of the request, against a fresh database with the app's real migrations.
 */
import { INestApplication, Logger } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Server } from 'node:http';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { JobQueueService, JobState, JobWorker } from 'nestjs-tenant-jobs';
import { AuditLog } from '../apps/example/src/audit/audit-log.entity';
import { FakeMailer } from '../apps/example/src/mailer/fake-mailer.service';
import { Order } from '../apps/example/src/orders/order.entity';
import { OrdersRepository } from '../apps/example/src/orders/orders.repository';
import { waitFor } from './support/wait-for';
import { ExampleApp, startExampleApp } from './support/example-app';
import { waitForJobState } from './support/jobs';

describe('example shop app', () => {
  let example: ExampleApp | undefined;
  let app: INestApplication;
  let http: Server;
  let jobs: JobQueueService;
  let worker: JobWorker;
  let mailer: FakeMailer;
  let dataSource: DataSource;

  beforeAll(async () => {
    example = await startExampleApp();
    ({ app, http, jobs, mailer, dataSource } = example);
    worker = app.get(JobWorker);
    // Not a suite about schedules (see example-schedules.e2e-spec.ts): stop their timers, so that a real
    // tick during the run (invoices every 10 minutes) adds no mails to the ones counted here.
    for (const cron of app.get(SchedulerRegistry).getCronJobs().values()) await cron.stop();
  });

  afterEach(() => jest.restoreAllMocks());

  afterAll(() => example?.close());

  const tenant = (accountId: string) => ({ 'x-account-id': accountId });

  async function createAccount(name: string): Promise<string> {
    const res = await request(http).post('/accounts').send({ name }).expect(201);
    expect(res.body).toMatchObject({ name, active: true });
    return res.body.id as string;
  }

  async function placeOrder(accountId: string): Promise<{ orderId: string; jobId: string }> {
    const res = await request(http)
      .post('/orders')
      .set(tenant(accountId))
      .send({ item: 'Teapot', quantity: 2, email: 'ada@example.com' })
      .expect(201);
    expect(res.body.order).toMatchObject({ accountId, item: 'Teapot', confirmedAt: null });
    return { orderId: res.body.order.id as string, jobId: res.body.jobId as string };
  }

  const jobIn = (id: string, state: JobState) =>
    waitForJobState(jobs, id, state, { timeoutMs: 15_000 });

  const mailsFor = (orderId: string) => mailer.sent.filter((m) => m.subject.includes(orderId));

  /** Runs `fn` with the worker stopped, so jobs it enqueues wait until it returns. */
  async function withWorkerPaused<T>(fn: () => Promise<T>): Promise<T> {
    await worker.stop();
    try {
      return await fn();
    } finally {
      await worker.start();
    }
  }

  async function totalJobs(): Promise<number> {
    return (await jobs.countByState()).reduce((sum, row) => sum + row.count, 0);
  }

  it('GET / describes the app', async () => {
    const res = await request(http).get('/').expect(200);
    expect(res.body.description).toEqual(expect.any(String));
    expect(res.body.try).toContainEqual(expect.stringContaining('curl -s -X POST'));
  });

  it('confirms a new order in the account that placed it, mailing the customer once', async () => {
    const accountId = await createAccount('Acme');
    const { orderId, jobId } = await placeOrder(accountId);

    const order = await waitFor(
      async () => {
        const res = await request(http).get(`/orders/${orderId}`).set(tenant(accountId));
        return res.status === 200 && res.body.confirmedAt ? res.body : undefined;
      },
      { message: 'order confirmed' },
    );
    const job = await jobIn(jobId, 'completed');
    expect(job).toMatchObject({ name: 'orders.confirm', accountId, payload: { orderId } });
    expect(job.result).toEqual({ confirmedAt: order.confirmedAt });
    expect(mailsFor(orderId)).toEqual([expect.objectContaining({ to: 'ada@example.com' })]);

    const view = await request(http).get(`/jobs/${jobId}`).set(tenant(accountId)).expect(200);
    expect(view.body).toMatchObject({ id: jobId, state: 'completed', accountId });

    // Asking again is harmless: the job sees the order is confirmed and sends nothing.
    const again = await request(http)
      .post(`/orders/${orderId}/confirm`)
      .set(tenant(accountId))
      .expect(202);
    expect((await jobIn(again.body.jobId, 'completed')).result).toEqual({
      skipped: 'already-confirmed',
    });
    expect(mailsFor(orderId)).toHaveLength(1);
  });

  it('skips the confirmation of an order deleted before the job ran', async () => {
    const accountId = await createAccount('Deleted-before-confirm');
    const { orderId, jobId } = await withWorkerPaused(async () => {
      const placed = await placeOrder(accountId);
      await dataSource.getRepository(Order).delete({ id: placed.orderId });
      return placed;
    });

    const job = await jobIn(jobId, 'completed');
    expect(job.result).toEqual({ skipped: 'order-not-found' });
    expect(job.attempts).toBe(1);
    expect(mailsFor(orderId)).toHaveLength(0);
  });

  it('audits an admin deletion synchronously and deletes the order asynchronously', async () => {
    const accountId = await createAccount('Admin-delete');
    const { orderId, jobId: confirmJobId } = await placeOrder(accountId);
    await jobIn(confirmJobId, 'completed');

    const jobId = await withWorkerPaused(async () => {
      const res = await request(http)
        .delete(`/admin/orders/${orderId}`)
        .set(tenant(accountId))
        .expect(202);
      // Written before the response; the order itself is still there until the job runs.
      const audit = await dataSource.getRepository(AuditLog).findBy({ orderId });
      expect(audit).toEqual([
        expect.objectContaining({ accountId, orderId, action: 'order.deletion-requested' }),
      ]);
      await request(http).get(`/orders/${orderId}`).set(tenant(accountId)).expect(200);
      return res.body.jobId as string;
    });

    await waitFor(
      async () =>
        (await request(http).get(`/orders/${orderId}`).set(tenant(accountId))).status === 404,
      { message: 'order deleted' },
    );
    const job = await jobIn(jobId, 'completed');
    expect(job).toMatchObject({ name: 'orders.delete', accountId, result: { deleted: true } });
    expect(await dataSource.getRepository(AuditLog).countBy({ orderId })).toBe(1);
  });

  it('logs a failed deletion and retries it', async () => {
    const accountId = await createAccount('Flaky-delete');
    const { orderId, jobId: confirmJobId } = await placeOrder(accountId);
    await jobIn(confirmJobId, 'completed');
    const orders = app.get(OrdersRepository);
    jest.spyOn(orders, 'delete').mockRejectedValueOnce(new Error('connection reset'));
    const logged = jest.spyOn(Logger.prototype, 'error');

    const res = await request(http)
      .delete(`/admin/orders/${orderId}`)
      .set(tenant(accountId))
      .expect(202);

    const job = await jobIn(res.body.jobId, 'completed');
    expect(job.attempts).toBe(2);
    expect(job.errors).toEqual([
      expect.objectContaining({ attempt: 1, message: 'connection reset' }),
    ]);
    expect(job.result).toEqual({ deleted: true });
    expect(logged).toHaveBeenCalledWith(
      `Deleting order ${orderId} failed (attempt 1/5): connection reset`,
      expect.stringContaining('Error: connection reset'),
    );
    await request(http).get(`/orders/${orderId}`).set(tenant(accountId)).expect(404);
  });

  it('rejects POST /orders without a valid account header and writes no job', async () => {
    const accountId = await createAccount('Header-checks');
    const jobsBefore = await totalJobs();
    const ordersBefore = await dataSource.getRepository(Order).count();
    const body = { item: 'Teapot', quantity: 1, email: 'ada@example.com' };

    const missing = await request(http).post('/orders').send(body).expect(400);
    expect(missing.body.message).toMatch(/X-Account-Id/);
    await request(http).post('/orders').set(tenant('not-a-uuid')).send(body).expect(400);
    await request(http)
      .post('/orders')
      .set(tenant('00000000-0000-4000-8000-000000000000'))
      .send(body)
      .expect(403);
    await request(http)
      .post('/orders')
      .set(tenant(accountId))
      .send({ ...body, quantity: 0 })
      .expect(400);
    // PostgreSQL text cannot hold U+0000: a 400 naming the field, not a 500 from the insert.
    const nul = await request(http)
      .post('/orders')
      .set(tenant(accountId))
      .send({ ...body, item: 'Tea\u0000pot' })
      .expect(400);
    expect(JSON.stringify(nul.body.message)).toContain('item must not contain U+0000');

    expect(await totalJobs()).toBe(jobsBefore);
    expect(await dataSource.getRepository(Order).count()).toBe(ordersBefore);
  });

  it("confirms another account's order while one account's import is still far from done", async () => {
    const importer = await createAccount('Importer');
    const shop = await createAccount('Corner shop');
    const rows = 3_000;
    const imported = () => dataSource.getRepository(Order).countBy({ accountId: importer });
    const res = await request(http)
      .post('/orders/import')
      .set(tenant(importer))
      .send({ count: rows, item: 'Archived order', email: 'ops@example.com' })
      .expect(202);
    expect(res.body).toEqual({ importId: expect.any(String), rows });
    await waitFor(async () => (await imported()) >= 20, { message: 'the import to be under way' });

    const { orderId, jobId } = await placeOrder(shop);
    await jobIn(jobId, 'completed');
    // Counted after the confirmation completed: it started earlier still, with most rows to go
    // (first come, first served, it would have waited for all 3,000).
    expect(await imported()).toBeLessThan(rows / 2);
    expect(mailsFor(orderId)).toHaveLength(1);

    // The import finishes, each row once (the order id is derived from the import and the row).
    await waitFor(async () => (await imported()) === rows, {
      message: 'every row imported',
      timeoutMs: 60_000,
    });
  }, 90_000);

  it('rejects an import with a bad count or item, enqueueing nothing', async () => {
    const accountId = await createAccount('Import-checks');
    const jobsBefore = await totalJobs();
    const body = { count: 10, item: 'Archived order', email: 'ops@example.com' };
    for (const [field, bad] of [
      ['count', 0],
      ['count', 10_001],
      ['count', 1e308],
      ['count', 2.5],
      ['count', '10'],
      ['item', 'Tea\u0000pot'],
      ['item', 'Tea\ud800pot'],
      ['item', ''],
      ['email', 'not-an-email'],
    ] as const) {
      const res = await request(http)
        .post('/orders/import')
        .set(tenant(accountId))
        .send({ ...body, [field]: bad })
        .expect(400);
      expect(JSON.stringify(res.body.message)).toContain(field);
    }
    await request(http).post('/orders/import').send(body).expect(400); // no account header
    expect(await totalJobs()).toBe(jobsBefore);
  });

  it("never lets one account read or change another account's order", async () => {
    const a = await createAccount('Tenant A');
    const b = await createAccount('Tenant B');
    const { orderId, jobId: bJobId } = await placeOrder(b);
    await jobIn(bJobId, 'completed');
    const before = (await request(http).get(`/orders/${orderId}`).set(tenant(b)).expect(200)).body;
    expect(before.confirmedAt).not.toBeNull();

    await request(http).get(`/orders/${orderId}`).set(tenant(a)).expect(404);
    await request(http).delete(`/admin/orders/${orderId}`).set(tenant(a)).expect(404);
    await request(http).get(`/jobs/${bJobId}`).set(tenant(a)).expect(404);
    expect(await dataSource.getRepository(AuditLog).countBy({ orderId })).toBe(0);

    // The confirm endpoint enqueues without checking: the job runs in A and cannot see B's order.
    const res = await request(http).post(`/orders/${orderId}/confirm`).set(tenant(a)).expect(202);
    const job = await jobIn(res.body.jobId, 'completed');
    expect(job).toMatchObject({ accountId: a, result: { skipped: 'order-not-found' } });

    const after = (await request(http).get(`/orders/${orderId}`).set(tenant(b)).expect(200)).body;
    expect(after).toEqual(before);
    expect(mailsFor(orderId)).toHaveLength(1);
  });

  it('fails the waiting jobs of a disabled account with AccountUnavailableError', async () => {
    const accountId = await createAccount('Soon disabled');
    const { orderId, jobId } = await withWorkerPaused(async () => {
      const placed = await placeOrder(accountId);
      const res = await request(http)
        .patch(`/accounts/${accountId}`)
        .send({ active: false })
        .expect(200);
      expect(res.body.active).toBe(false);
      return placed;
    });

    const job = await jobIn(jobId, 'failed');
    expect(job.attempts).toBe(1);
    expect(job.lastError).toMatchObject({ name: 'AccountUnavailableError' });
    expect(await dataSource.getRepository(Order).findOneBy({ id: orderId })).toMatchObject({
      confirmedAt: null,
    });
    expect(mailsFor(orderId)).toHaveLength(0);
    await request(http).get(`/orders/${orderId}`).set(tenant(accountId)).expect(403);
  });
});
