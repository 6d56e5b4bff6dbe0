/**
 * The example shop's recurring schedules (apps/example: invoices every 10 minutes, a daily digest at 08:00,
 * both Tokyo time, fanned out to the active accounts) with the real AppModule against a fresh database.
 * Ticks are driven with the registered cron's `fireOnTick()`, which runs the schedule's real tick (the same
 * callback the timer calls): exactly-once guard, fan-out through `ActiveAccountsSource`, one job per account.
 */
import { INestApplication } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { Server } from 'node:http';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { JobQueueService, JobRecord } from 'nestjs-tenant-jobs';
import { accountOwnerEmail } from '../apps/example/src/digest/daily-digest-mail';
import { SendPendingInvoicesJob } from '../apps/example/src/invoices/send-pending-invoices.job';
import { FakeMailer } from '../apps/example/src/mailer/fake-mailer.service';
import { Order } from '../apps/example/src/orders/order.entity';
import { waitFor } from './support/wait-for';
import { ExampleApp, startExampleApp } from './support/example-app';
import { waitForJobState } from './support/jobs';

const INVOICES = 'jobs:invoices.send-pending';
const DIGEST = 'jobs:digest.daily';

describe('example shop schedules', () => {
  let example: ExampleApp | undefined;
  let app: INestApplication;
  let http: Server;
  let jobs: JobQueueService;
  let mailer: FakeMailer;
  let dataSource: DataSource;
  let scheduler: SchedulerRegistry;

  beforeAll(async () => {
    example = await startExampleApp();
    ({ app, http, jobs, mailer, dataSource } = example);
    scheduler = app.get(SchedulerRegistry);
  });

  afterAll(() => example?.close());

  async function createAccount(name: string): Promise<string> {
    const res = await request(http).post('/accounts').send({ name }).expect(201);
    return res.body.id as string;
  }

  async function disableAccount(accountId: string): Promise<void> {
    await request(http).patch(`/accounts/${accountId}`).send({ active: false }).expect(200);
  }

  const jobCompleted = (id: string) =>
    waitForJobState(jobs, id, 'completed', { timeoutMs: 15_000 });

  /** Places an order over HTTP and waits until its confirmation job has confirmed it. */
  async function confirmedOrder(accountId: string, item: string): Promise<string> {
    const res = await request(http)
      .post('/orders')
      .set({ 'x-account-id': accountId })
      .send({ item, quantity: 1, email: `${item.toLowerCase()}@example.com` })
      .expect(201);
    expect((await jobCompleted(res.body.jobId as string)).result).toHaveProperty('confirmedAt');
    return res.body.order.id as string;
  }

  /** An order that is not confirmed (no confirmation job was enqueued for it). */
  async function pendingOrder(accountId: string, item: string): Promise<string> {
    const order = await dataSource.getRepository(Order).save({
      accountId,
      item,
      quantity: 1,
      email: 'pending@example.com',
      confirmedAt: null,
      invoicedAt: null,
    });
    return order.id;
  }

  /** Every job of this name so far, with its account (read from the library's jobs table). */
  async function jobsNamed(name: string): Promise<Array<{ id: string; accountId: string }>> {
    const rows = (await dataSource.query(
      `select id::text as id, account_id as "accountId" from jobs.jobs where name = $1 order by id`,
      [name],
    )) as Array<{ id: string; accountId: string }>;
    return rows;
  }

  /** Fires the cron's tick as its timer would, then waits for the tick's jobs (one per account) to finish. */
  async function tick(cronName: string, jobName: string, accounts: number): Promise<JobRecord[]> {
    const before = new Set((await jobsNamed(jobName)).map((job) => job.id));
    await scheduler.getCronJob(cronName).fireOnTick();
    const enqueued = await waitFor(
      async () => {
        const fresh = (await jobsNamed(jobName)).filter((job) => !before.has(job.id));
        return fresh.length >= accounts ? fresh : undefined;
      },
      { message: `${accounts} ${jobName} job(s) enqueued by one tick` },
    );
    return Promise.all(enqueued.map((job) => jobCompleted(job.id)));
  }

  const invoiceMails = (orderId: string) =>
    mailer.sent.filter((mail) => mail.subject === `Invoice for order ${orderId}`);

  const invoicedAt = async (orderId: string) =>
    (await dataSource.getRepository(Order).findOneByOrFail({ id: orderId })).invoicedAt;

  it('registers both schedules as Nest crons firing on Tokyo wall-clock time', () => {
    const invoices = scheduler.getCronJob(INVOICES);
    const digest = scheduler.getCronJob(DIGEST);
    expect(invoices.isActive).toBe(true);
    expect(digest.isActive).toBe(true);

    for (const next of invoices.nextDates(3)) {
      const tokyo = next.setZone('Asia/Tokyo');
      expect([tokyo.minute % 10, tokyo.second]).toEqual([0, 0]);
    }
    for (const next of digest.nextDates(3)) {
      const tokyo = next.setZone('Asia/Tokyo');
      expect([tokyo.hour, tokyo.minute, tokyo.second]).toEqual([8, 0, 0]);
      // Tokyo is UTC+9 all year: 08:00 there is 23:00 UTC the day before (not 08:00 UTC).
      expect(next.toUTC().hour).toBe(23);
    }
    expect(invoices.nextDate().setZone('Asia/Tokyo').minute % 10).toBe(0);
    expect(digest.nextDate().setZone('Asia/Tokyo')).toMatchObject({ hour: 8, minute: 0 });
  });

  describe('ticks', () => {
    let a: string;
    let b: string;
    let disabled: string;
    const ordersOf: Record<string, { confirmed: string[]; pending: string[] }> = {};

    beforeAll(async () => {
      // Only fireOnTick drives the schedules from here on: a real :x0 tick in the middle of a test
      // would add jobs to the ones being counted. (fireOnTick does not need the timer running.)
      for (const name of [INVOICES, DIGEST]) await scheduler.getCronJob(name).stop();

      a = await createAccount('Tokyo A');
      b = await createAccount('Tokyo B');
      disabled = await createAccount('Tokyo disabled');
      ordersOf[a] = {
        confirmed: [await confirmedOrder(a, 'Teapot'), await confirmedOrder(a, 'Kettle')],
        pending: [await pendingOrder(a, 'Tray')],
      };
      ordersOf[b] = { confirmed: [await confirmedOrder(b, 'Cup')], pending: [] };
      ordersOf[disabled] = { confirmed: [await confirmedOrder(disabled, 'Bowl')], pending: [] };
      await disableAccount(disabled);
    });

    it('one invoices tick runs a job per active account, mailing one invoice per confirmed order', async () => {
      const done = await tick(INVOICES, 'invoices.send-pending', 2);

      expect(done.map((job) => job.accountId).sort()).toEqual([a, b].sort());
      const resultOf = (accountId: string) =>
        done.find((job) => job.accountId === accountId)?.result;
      expect(resultOf(a)).toEqual({ invoiced: 2 });
      expect(resultOf(b)).toEqual({ invoiced: 1 });
      // Each run reported how far it was; its last value was stored before it completed.
      const progressOf = (accountId: string) =>
        done.find((job) => job.accountId === accountId)?.progress;
      expect(progressOf(a)).toEqual({ invoiced: 2 });
      expect(progressOf(b)).toEqual({ invoiced: 1 });

      for (const orderId of [...ordersOf[a].confirmed, ...ordersOf[b].confirmed]) {
        expect(invoiceMails(orderId)).toHaveLength(1);
        expect(await invoicedAt(orderId)).toBeInstanceOf(Date);
      }
      // Not confirmed yet: no invoice. Disabled account: no job at all, so its order waits.
      for (const orderId of [...ordersOf[a].pending, ...ordersOf[disabled].confirmed]) {
        expect(invoiceMails(orderId)).toHaveLength(0);
        expect(await invoicedAt(orderId)).toBeNull();
      }
      expect((await jobsNamed('invoices.send-pending')).map((job) => job.accountId)).not.toContain(
        disabled,
      );
    });

    it("an account's invoice run leaves other accounts alone, and re-runs send nothing new", async () => {
      const newInA = [await confirmedOrder(a, 'Spoon'), await confirmedOrder(a, 'Fork')];
      const newInB = await confirmedOrder(b, 'Plate');
      const mailsBefore = mailer.sent.length;

      // Three runs in A at once (a tick, a retry, a manual run…): each order is still invoiced once.
      const ids = await jobs.performAllLater(
        SendPendingInvoicesJob,
        [1, 2, 3].map(() => ({ payload: {}, accountId: a })),
      );
      const runs = await Promise.all(ids.map(jobCompleted));
      const invoiced = runs.map((job) => (job.result as { invoiced: number }).invoiced);
      expect(invoiced.reduce((sum, n) => sum + n, 0)).toBe(2);
      for (const orderId of newInA) expect(invoiceMails(orderId)).toHaveLength(1);
      // B's new order is not A's to invoice.
      expect(invoiceMails(newInB)).toHaveLength(0);
      expect(await invoicedAt(newInB)).toBeNull();
      expect(mailer.sent.length).toBe(mailsBefore + 2);

      // Once more: nothing left to invoice in A.
      const again = await jobs.performLater(SendPendingInvoicesJob, {}, { accountId: a });
      expect((await jobCompleted(again)).result).toEqual({ invoiced: 0 });
      expect(mailer.sent.length).toBe(mailsBefore + 2);
      for (const orderId of [...ordersOf[a].confirmed, ...newInA])
        expect(invoiceMails(orderId)).toHaveLength(1);
    });

    it('the daily digest mails each active account a summary of its own orders only', async () => {
      const done = await tick(DIGEST, 'digest.daily', 2);
      expect(done.map((job) => job.accountId).sort()).toEqual([a, b].sort());

      const all = await dataSource.getRepository(Order).find();
      const idsOf = (accountId: string) =>
        all.filter((order) => order.accountId === accountId).map((order) => order.id);
      for (const accountId of [a, b]) {
        const own = idsOf(accountId);
        const confirmed = all.filter((o) => o.accountId === accountId && o.confirmedAt).length;
        const digests = mailer.sent.filter((mail) => mail.to === accountOwnerEmail(accountId));
        expect(digests).toHaveLength(1);
        const [{ subject, text }] = digests;
        expect(subject).toBe(`Daily digest: ${own.length} new order(s), ${confirmed} confirmed`);
        expect(text).toContain(`last 24 hours: ${own.length} (${confirmed} confirmed)`);
        for (const orderId of own) expect(text).toContain(orderId);
        for (const orderId of all.map((o) => o.id).filter((id) => !own.includes(id)))
          expect(text).not.toContain(orderId);
        expect(done.find((job) => job.accountId === accountId)?.result).toEqual({
          orders: own.length,
          confirmed,
        });
      }
      expect(mailer.sent.filter((mail) => mail.to === accountOwnerEmail(disabled))).toHaveLength(0);
    });
  });
});
