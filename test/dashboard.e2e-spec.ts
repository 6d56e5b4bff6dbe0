/**
 * The jobs dashboard in a real browser (Debian's chromium through playwright-core) against the example
 * shop on real PostgreSQL: the operator's view at /admin/jobs (token guard) and the account-scoped view
 * at /account/jobs. Plus the guard and mounting rules over plain HTTP.
 */
import { CanActivate, Controller, Get, INestApplication, Injectable } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import request from 'supertest';
import { ClsModule } from 'nestjs-cls';
import { JobFlowControl, JobsDashboardModule, JobsModule, JobWorker } from 'nestjs-tenant-jobs';
import { launchBrowser, TestBrowser } from './support/browser';
import { createTestDatabase, TestDatabase } from './support/database';
import { ExampleApp, startExampleApp } from './support/example-app';
import { waitForJobState } from './support/jobs';
import { trackApp } from './support/open-apps';
import { waitFor } from './support/wait-for';

jest.setTimeout(60_000);

// Where the page screenshots go: .data/ (ignored) by default; `SCREENSHOTS_DIR=docs/images` refreshes the
// README's.
const SCREENSHOTS = process.env.SCREENSHOTS_DIR
  ? join(process.cwd(), process.env.SCREENSHOTS_DIR)
  : join(__dirname, '..', '.data', 'screenshots');
const XSS = `<script>alert('x')</script>"><img src=x onerror=alert(1)>`;
/** Absence can only be seen by letting time pass: a wait with the workers running, not a sleep for a state. */
const lettingWorkersRun = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('dashboard in the browser (example app)', () => {
  let example: ExampleApp | undefined;
  let browser: TestBrowser | undefined;
  let url: string;
  let accountA: string;
  let accountB: string;
  let failedA: string;
  let failedB: string;

  beforeAll(async () => {
    example = await startExampleApp();
    for (const cron of example.app.get(SchedulerRegistry).getCronJobs().values()) await cron.stop();
    await example.app.listen(0, '127.0.0.1');
    url = (await example.app.getUrl()).replace('[::1]', '127.0.0.1');
    const http = example.http;
    const account = async (name: string) =>
      (await request(http).post('/accounts').send({ name }).expect(201)).body.id as string;
    const order = async (accountId: string) =>
      (
        await request(http)
          .post('/orders')
          .set('x-account-id', accountId)
          .send({ item: 'Teapot', quantity: 1, email: 'ada@example.com' })
          .expect(201)
      ).body.jobId as string;
    accountA = await account('Dashboard A');
    accountB = await account('Dashboard B');
    // A job that fails at once in each account: placed while the worker is stopped, then the account
    // is disabled, so the job fails with AccountUnavailableError on its first attempt.
    const worker = example.app.get(JobWorker);
    await worker.stop();
    failedA = await order(accountA);
    failedB = await order(accountB);
    await order(accountB); // one more of B's jobs, completed later
    for (const id of [accountA, accountB]) {
      await request(http).patch(`/accounts/${id}`).send({ active: false }).expect(200);
    }
    await worker.start();
    await waitForJobState(example.jobs, failedA, 'failed', { timeoutMs: 15_000 });
    await waitForJobState(example.jobs, failedB, 'failed', { timeoutMs: 15_000 });
    for (const id of [accountA, accountB]) {
      await request(http).patch(`/accounts/${id}`).send({ active: true }).expect(200);
    }
    browser = await launchBrowser();
    mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await example?.close();
  });

  async function screenshot(page: Page, name: string, fullPage = false): Promise<void> {
    const path = join(SCREENSHOTS, `dashboard-${name}.png`);
    await page.screenshot({ path, fullPage });
    expect(statSync(path).size).toBeLessThan(300_000);
  }

  it('overview → failed jobs of one account → the job → retry → completed', async () => {
    const page = await browser!.context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.accept();
    });
    const res = await page.goto(`${url}/admin/jobs?token=dev-admin-token`);
    expect(res?.status()).toBe(200);
    expect(res?.headers()['content-security-policy']).toContain("script-src 'self'");
    await page.locator('table.overview').getByRole('link', { name: 'default' }).waitFor();
    await screenshot(page, 'overview');

    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    await page.locator('select[name=state]').selectOption('failed');
    await page.locator('input[name=account]').fill(accountA);
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/state=failed/);
    const ids = await page.locator('table.jobs tbody td:first-child').allTextContents();
    expect(ids).toEqual([`#${failedA}`]);
    await screenshot(page, 'job-list');

    await page.getByRole('link', { name: `#${failedA}` }).click();
    await page.getByText('AccountUnavailableError').first().waitFor();
    await screenshot(page, 'job', true);
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.getByRole('status').filter({ hasText: 'Retried' }).waitFor();
    await waitFor(
      async () => {
        await page.reload();
        return (await page.locator('.facts .badge').textContent()) === 'completed' || undefined;
      },
      { message: 'the retried job to show completed', timeoutMs: 15_000 },
    );
    expect((await example!.jobs.find(failedA))?.state).toBe('completed');
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it('pauses the default queue from the overview: a new order waits; resumed, it is confirmed', async () => {
    const page = await browser!.context.newPage();
    page.on('dialog', (d) => void d.accept()); // the Pause button asks first
    await page.goto(`${url}/admin/jobs?token=dev-admin-token`);
    const row = page.locator('table.overview tr', {
      has: page.getByRole('link', { name: 'default' }),
    });
    await row.getByRole('button', { name: 'Pause' }).click();
    await page.getByRole('status').filter({ hasText: 'Paused' }).waitFor();
    await row.locator('.state-paused').waitFor();
    expect((await example!.app.get(JobFlowControl).listPaused()).map((p) => p.key)).toEqual([
      'default',
    ]);
    await screenshot(page, 'overview-paused');

    const { jobId } = (
      await request(example!.http)
        .post('/orders')
        .set('x-account-id', accountA)
        .send({ item: 'Kettle', quantity: 1, email: 'ada@example.com' })
        .expect(201)
    ).body as { jobId: string };
    await lettingWorkersRun(1_500); // the example polls every second; LISTEN makes it at once
    await page.goto(`${url}/admin/jobs/jobs/${jobId}`);
    await expect(page.locator('.facts .badge').textContent()).resolves.toBe('available');

    await page.goto(`${url}/admin/jobs`);
    await row.getByRole('button', { name: 'Resume' }).click();
    await page.getByRole('status').filter({ hasText: 'Resumed' }).waitFor();
    await page.goto(`${url}/admin/jobs/jobs/${jobId}`);
    await waitFor(
      async () => {
        await page.reload();
        return (await page.locator('.facts .badge').textContent()) === 'completed' || undefined;
      },
      { message: 'the resumed job to show completed', timeoutMs: 15_000 },
    );
    await page.close();
  });

  it("shows a job's progress, and links it to the jobs it enqueued and back", async () => {
    const page = await browser!.context.newPage();
    page.on('dialog', (d) => void d.accept());
    // The invoicing run reports { invoiced } as it goes: run it now for every account.
    await page.goto(`${url}/admin/jobs/schedules?token=dev-admin-token`);
    const schedule = page.locator('tr', { hasText: 'invoices.send-pending' }).first();
    await schedule.getByRole('button', { name: 'Run now' }).click();
    await page.getByRole('status').filter({ hasText: 'Enqueued now' }).waitFor();
    const [run] = await example!.dataSource.query<Array<{ id: string }>>(
      `select id::text as id from jobs.jobs where name = 'invoices.send-pending' and account_id = $1
       order by jobs.id desc limit 1`,
      [accountA],
    );
    // Account A has confirmed orders not invoiced yet (the retried one, the one placed while paused).
    const done = await waitForJobState(example!.jobs, run.id, 'completed', { timeoutMs: 15_000 });
    const { invoiced } = done.result as { invoiced: number };
    expect(invoiced).toBeGreaterThan(0);
    // A job the run "enqueued" (the e2e suite of the dashboard's actions enqueues real ones from
    // perform; here one row is enough to follow the links).
    const [child] = await example!.dataSource.query<Array<{ id: string }>>(
      `insert into jobs.jobs (name, state, account_id, parent_id, finished_at)
       values ('invoices.follow-up', 'completed', $1, $2, now()) returning id::text as id`,
      [accountA, run.id],
    );
    await page.goto(`${url}/admin/jobs/jobs/${run.id}`);
    await expect(page.locator('.progress-value').textContent()).resolves.toBe(
      JSON.stringify({ invoiced }),
    );
    await page
      .locator('table.children')
      .getByRole('link', { name: `#${child.id}` })
      .click();
    await page.waitForURL(new RegExp(`/jobs/${child.id}$`));
    await expect(page.locator('h1 .job-name').textContent()).resolves.toBe('invoices.follow-up');
    await page.locator('a.parent').click();
    await page.waitForURL(new RegExp(`/jobs/${run.id}$`));
    await screenshot(page, 'job-links', true);
    await page.close();
  });

  it('renders a hostile payload, name and error as text', async () => {
    const [{ id }] = await example!.dataSource.query<Array<{ id: string }>>(
      `insert into jobs.jobs (name, state, payload, last_error, errors, finished_at)
       values ($1, 'completed', $2, $3, $4, now()) returning id::text as id`,
      [
        `xss.${XSS}`,
        JSON.stringify({ note: XSS }),
        JSON.stringify({ attempt: 1, at: new Date().toISOString(), name: XSS, message: XSS }),
        JSON.stringify([
          { attempt: 1, at: new Date().toISOString(), name: XSS, message: XSS, stack: XSS },
        ]),
      ],
    );
    const page = await browser!.context.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${url}/admin/jobs/jobs/${id}`);
    const payload = await page.locator('pre.payload').textContent();
    expect(payload).toContain(`<script>alert('x')</script>`);
    expect(payload).toContain('<img src=x onerror=alert(1)>');
    await expect(page.locator('h1 .job-name').textContent()).resolves.toBe(`xss.${XSS}`);
    await expect(page.locator('pre.stack').textContent()).resolves.toBe(XSS);
    await page.goto(`${url}/admin/jobs/jobs?name=${encodeURIComponent(`xss.${XSS}`)}`);
    await expect(page.locator('table.jobs tbody tr').count()).resolves.toBe(1);
    await expect(page.locator('form.filters input[name=name]').inputValue()).resolves.toBe(
      `xss.${XSS}`,
    );
    expect(await page.locator('img').count()).toBe(0);
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it("the account view shows its own jobs only, and another account's job is not found", async () => {
    const page = await browser!.context.newPage();
    await page.goto(`${url}/account/jobs/jobs?account_id=${accountA}`);
    const shown = await page.locator('table.jobs tbody td:first-child').allTextContents();
    expect(shown).toContain(`#${failedA}`);
    expect(shown).not.toContain(`#${failedB}`);
    // The account filter of the URL is ignored: the scope is the current account.
    await page.goto(`${url}/account/jobs/jobs?account=${accountB}&state=failed`);
    expect(await page.locator(`text=#${failedB}`).count()).toBe(0);

    const guessed = await page.goto(`${url}/account/jobs/jobs/${failedB}`);
    expect(guessed?.status()).toBe(404);
    for (const global of ['workers', 'schedules', 'accounts']) {
      expect((await page.goto(`${url}/account/jobs/${global}`))?.status()).toBe(404);
    }
    await page.goto(`${url}/account/jobs/jobs`);
    const csrf = await page.locator('input[name=_csrf]').first().inputValue();
    const retry = await page.request.post(`${url}/account/jobs/jobs/${failedB}/retry`, {
      form: { _csrf: csrf },
      maxRedirects: 0,
    });
    expect(retry.status()).toBe(404);
    expect((await example!.jobs.find(failedB))?.state).toBe('failed');
    await page.close();
  });

  it('refuses a POST without the CSRF token', async () => {
    await request(example!.http)
      .post(`/admin/jobs/jobs/${failedB}/retry`)
      .set('x-admin-token', 'dev-admin-token')
      .type('form')
      .send({ _csrf: 'forged.token' })
      .expect(403);
    expect((await example!.jobs.find(failedB))?.state).toBe('failed');
  });
});

@Injectable()
class DenyAll implements CanActivate {
  canActivate(): boolean {
    return false;
  }
}

@Controller('ping')
class PingController {
  @Get()
  ping(): string {
    return 'pong';
  }
}

describe('dashboard mounting', () => {
  let db: TestDatabase;
  let app: INestApplication | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  afterAll(() => db.drop());

  async function start(dashboard: boolean): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ClsModule.forRoot({ global: true }),
        TypeOrmModule.forRoot({ type: 'postgres', url: db.url }),
        JobsModule.forRoot({ runMigrations: true }),
        ...(dashboard ? [JobsDashboardModule.forRoot({ path: '/ops/jobs', guard: DenyAll })] : []),
      ],
      controllers: [PingController],
    }).compile();
    app = trackApp(moduleRef.createNestApplication({ logger: false }), 'dashboard mounting');
    await app.init();
    return app;
  }

  it('a denying guard answers 403 on every page, asset and action', async () => {
    const http = (await start(true)).getHttpServer();
    const gets = [
      '',
      '/jobs',
      '/jobs/1',
      '/schedules',
      '/workers',
      '/accounts',
      '/assets/dashboard.css',
    ];
    for (const path of gets) await request(http).get(`/ops/jobs${path}`).expect(403);
    for (const path of ['/jobs/1/retry', '/jobs/1/cancel', '/bulk/discard', '/schedules/x/run']) {
      await request(http).post(`/ops/jobs${path}`).type('form').send({}).expect(403);
    }
  });

  it('no dashboard route exists when the module is not imported', async () => {
    const http = (await start(false)).getHttpServer();
    await request(http).get('/ping').expect(200);
    for (const path of ['/jobs', '/jobs/jobs', '/jobs/assets/dashboard.css', '/ops/jobs']) {
      await request(http).get(path).expect(404);
    }
  });
});
