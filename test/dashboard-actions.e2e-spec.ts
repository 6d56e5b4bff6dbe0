/**
 * The dashboard's pause/resume actions, the progress bar and the parent/children links, over plain HTTP
 * against real PostgreSQL: an operator's dashboard (/ops/jobs) and an account-scoped one (/my/jobs) in
 * one app whose CLS account comes from the `x-account-id` header.
 */
import {
  CanActivate,
  ExecutionContext,
  INestApplication,
  Injectable,
  LoggerService,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Request } from 'express';
import { ClsModule } from 'nestjs-cls';
import type { Server } from 'node:http';
import request from 'supertest';
import { DataSource } from 'typeorm';
import {
  Job,
  JobContext,
  JobFlowControl,
  JobHandler,
  JobQueueService,
  JobsDashboardModule,
  JobsModule,
} from 'nestjs-tenant-jobs';
import { createTestDatabase, TestDatabase } from './support/database';
import { waitForJobState } from './support/jobs';
import { trackApp } from './support/open-apps';
import { waitFor } from './support/wait-for';

jest.setTimeout(30_000);

const POLL_MS = 100;
/** Absence can only be seen by letting time pass: a wait with the workers running, not a sleep for a state. */
const lettingWorkersRun = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const HOSTILE = `<script>alert(1)</script>"><img src=x onerror=alert(2)>`;

/** Enqueues the children its payload asks for, one of them optionally in another account. */
@Job({ name: 'dash.parent' })
class ParentJob implements JobHandler<{ children: number; foreign?: string }> {
  constructor(private readonly jobs: JobQueueService) {}

  async perform(payload: { children: number; foreign?: string }, ctx: JobContext): Promise<void> {
    ctx.progress({ done: 3, total: 4, note: HOSTILE });
    for (let i = 0; i < payload.children; i++) await this.jobs.performLater(ChildJob, { i });
    if (payload.foreign) {
      await this.jobs.performLater(ChildJob, { i: -1 }, { accountId: payload.foreign });
    }
  }
}

@Job({ name: 'dash.child' })
class ChildJob implements JobHandler<{ i: number }> {
  perform(): void {}
}

@Job({ name: 'dash.probe', queue: 'other', tenant: 'none' })
class ProbeJob implements JobHandler<Record<string, never>> {
  perform(): void {}
}

@Job({ name: 'dash.percent', tenant: 'none' })
class PercentJob implements JobHandler<Record<string, never>> {
  perform(_payload: Record<string, never>, ctx: JobContext): void {
    ctx.progress(42);
  }
}

/** Lets a request in when it carries the admin token (the operator) or an account (the scoped view). */
@Injectable()
class HeaderGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<Request & { user?: { id: string } }>();
    if (req.header('x-admin') === 'yes') req.user = { id: 'ops-alice' };
    return req.user !== undefined || req.header('x-account-id') !== undefined;
  }
}

/** Keeps the log lines of the `JobsDashboard` logger. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown, context?: string): void {
    if (context === 'JobsDashboard') this.lines.push(String(message));
  }
  error(): void {}
  warn(): void {}
}

describe('dashboard actions and links', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let http: Server;
  let jobs: JobQueueService;
  let flow: JobFlowControl;
  let dataSource: DataSource;
  const logger = new CapturingLogger();

  beforeAll(async () => {
    db = await createTestDatabase();
    const moduleRef = await Test.createTestingModule({
      imports: [
        ClsModule.forRoot({
          global: true,
          middleware: {
            mount: true,
            setup: (cls, req: Request) => cls.set('accountId', req.header('x-account-id')),
          },
        }),
        TypeOrmModule.forRoot({ type: 'postgres', url: db.url, extra: { max: 10 } }),
        JobsModule.forRoot({
          runMigrations: true,
          tenant: { clsKey: 'accountId' },
          worker: { pollIntervalMs: POLL_MS },
          observability: { progressIntervalMs: 10 },
        }),
        JobsDashboardModule.forRoot({ path: '/ops/jobs', guard: HeaderGuard }),
        JobsDashboardModule.forRoot({ path: '/my/jobs', guard: HeaderGuard, scope: 'account' }),
      ],
      providers: [ParentJob, ChildJob, PercentJob, ProbeJob],
    }).compile();
    app = trackApp(moduleRef.createNestApplication({ logger }), 'dashboard actions');
    await app.init();
    http = app.getHttpServer() as Server;
    jobs = app.get(JobQueueService);
    flow = app.get(JobFlowControl);
    dataSource = app.get(DataSource);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  /** A page's CSRF cookie and token, as a browser would post them back. */
  async function form(path: string, headers: Record<string, string>) {
    const page = await request(http).get(path).set(headers).expect(200);
    const cookie = (page.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
    if (!csrf) throw new Error(`no form on ${path}`);
    return (action: string) =>
      request(http)
        .post(action)
        .set(headers)
        .set('cookie', cookie)
        .type('form')
        .send({ _csrf: csrf });
  }

  const ADMIN = { 'x-admin': 'yes' };

  it('pauses a queue from the overview: new jobs wait; resume and they run; logged with who', async () => {
    const first = await jobs.performLater(ChildJob, { i: 0 }, { accountId: 'acme' });
    await waitForJobState(jobs, first, 'completed');
    const post = await form('/ops/jobs', ADMIN);
    let overview = await request(http).get('/ops/jobs').set(ADMIN).expect(200);
    expect(overview.text).toContain('action="/ops/jobs/queues/default/pause"');

    const paused = await post('/ops/jobs/queues/default/pause').expect(303);
    expect(paused.headers.location).toBe('/ops/jobs?notice=paused');
    expect((await flow.listPaused()).map((p) => [p.kind, p.key])).toEqual([['queue', 'default']]);
    overview = await request(http).get('/ops/jobs?notice=paused').set(ADMIN).expect(200);
    expect(overview.text).toContain('state-paused');
    expect(overview.text).toContain('action="/ops/jobs/queues/default/resume"');
    expect(overview.text).toContain('Paused: none of its jobs starts');

    const waiting = await jobs.performLater(ChildJob, { i: 1 }, { accountId: 'acme' });
    // Pausing twice changes nothing, and says so.
    expect((await post('/ops/jobs/queues/default/pause').expect(303)).headers.location).toBe(
      '/ops/jobs?notice=unchanged',
    );
    // The job waits: the worker runs another queue's job meanwhile, and five polls later it has still
    // not started this one.
    const probe = await jobs.performLater(ProbeJob, {});
    await waitForJobState(jobs, probe, 'completed');
    await lettingWorkersRun(POLL_MS * 5);
    expect((await jobs.find(waiting))?.state).toBe('available');

    await post('/ops/jobs/queues/default/resume').expect(303);
    await waitForJobState(jobs, waiting, 'completed');
    expect(await flow.listPaused()).toEqual([]);
    expect(logger.lines).toEqual(
      expect.arrayContaining([
        'ops-alice paused queue "default" from the dashboard at /ops/jobs',
        'ops-alice tried to pause (already paused) queue "default" from the dashboard at /ops/jobs',
        'ops-alice resumed queue "default" from the dashboard at /ops/jobs',
      ]),
    );
  });

  it('pauses and resumes an account from the accounts page, even one that has no job', async () => {
    const post = await form('/ops/jobs/accounts', ADMIN);
    const res = await post('/ops/jobs/accounts/acme/pause').expect(303);
    expect(res.headers.location).toBe('/ops/jobs/accounts?notice=paused');
    await post('/ops/jobs/accounts/nobody-yet/pause').expect(303);
    const page = await request(http).get('/ops/jobs/accounts').set(ADMIN).expect(200);
    expect(page.text).toContain('action="/ops/jobs/accounts/acme/resume"');
    expect(page.text).toContain('action="/ops/jobs/accounts/nobody-yet/resume"');
    // The operator's dashboard acts across accounts even when its request carries one.
    await post('/ops/jobs/accounts/nobody-yet/resume').set('x-account-id', 'acme').expect(303);
    await post('/ops/jobs/accounts/acme/resume').expect(303);
    expect(await flow.listPaused()).toEqual([]);
  });

  it('answers 400 naming the problem for a queue name or account id JobFlowControl refuses', async () => {
    const post = await form('/ops/jobs', ADMIN);
    const nul = await post('/ops/jobs/queues/a%00b/pause').expect(400);
    expect(nul.text).toContain('queue');
    await post('/ops/jobs/accounts/%20/pause').expect(400);
    await post('/ops/jobs/queues/default/explode').expect(404);
    expect(await flow.listPaused()).toEqual([]);
  });

  it('the account view pauses only its own account, never a queue or another account', async () => {
    const mine = { 'x-account-id': 'acme' };
    const post = await form('/my/jobs', mine);
    await post('/my/jobs/queues/default/pause').expect(404);
    await post('/my/jobs/accounts/globex/pause').expect(404);
    expect(await flow.listPaused()).toEqual([]);
    let overview = await request(http).get('/my/jobs').set(mine).expect(200);
    expect(overview.text).not.toContain('/queues/default/pause');
    expect(overview.text).toContain('action="/my/jobs/accounts/acme/pause"');

    expect((await post('/my/jobs/accounts/acme/pause').expect(303)).headers.location).toBe(
      '/my/jobs?notice=paused',
    );
    expect((await flow.listPaused()).map((p) => [p.kind, p.key])).toEqual([['account', 'acme']]);
    overview = await request(http).get('/my/jobs').set(mine).expect(200);
    expect(overview.text).toContain('Your jobs are <strong>paused</strong>');
    // Another account's view does not see acme's pause.
    const other = await request(http).get('/my/jobs').set('x-account-id', 'globex').expect(200);
    expect(other.text).toContain('Your jobs run as they come.');
    await post('/my/jobs/accounts/acme/resume').expect(303);
    expect(await flow.listPaused()).toEqual([]);
  });

  it('shows progress as a bar and the escaped value; a number reads as a percentage', async () => {
    const id = await jobs.performLater(ParentJob, { children: 0 }, { accountId: 'acme' });
    await waitForJobState(jobs, id, 'completed');
    const page = await request(http).get(`/ops/jobs/jobs/${id}`).set(ADMIN).expect(200);
    expect(page.text).toContain('<progress max="100" value="75"');
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).not.toContain(HOSTILE);

    const percent = await jobs.performLater(PercentJob, {});
    await waitForJobState(jobs, percent, 'completed');
    const shown = await request(http).get(`/ops/jobs/jobs/${percent}`).set(ADMIN).expect(200);
    expect(shown.text).toContain('<progress max="100" value="42"');
    // No progress reported: no section.
    const child = await jobs.performLater(ChildJob, { i: 0 }, { accountId: 'acme' });
    await waitForJobState(jobs, child, 'completed');
    const none = await request(http).get(`/ops/jobs/jobs/${child}`).set(ADMIN).expect(200);
    expect(none.text).not.toContain('<h2>Progress</h2>');
  });

  it("links a job to the jobs it enqueued and back; the account view shows only the account's", async () => {
    const parent = await jobs.performLater(
      ParentJob,
      { children: 2, foreign: 'globex' },
      { accountId: 'acme' },
    );
    await waitForJobState(jobs, parent, 'completed');
    const children = await waitFor(async () => {
      const rows = await dataSource.query<Array<{ id: string; account_id: string }>>(
        `select id::text as id, account_id from jobs.jobs j where parent_id = $1 order by j.id`,
        [parent],
      );
      return rows.length === 3 ? rows : undefined;
    });
    expect(children.map((c) => c.account_id)).toEqual(['acme', 'acme', 'globex']);
    const [own, , foreign] = children;
    expect((await jobs.find(own.id))?.parentId).toBe(parent);
    expect((await jobs.find(parent))?.parentId).toBeNull();

    const page = await request(http).get(`/ops/jobs/jobs/${parent}`).set(ADMIN).expect(200);
    for (const c of children) expect(page.text).toContain(`href="/ops/jobs/jobs/${c.id}"`);
    const child = await request(http).get(`/ops/jobs/jobs/${own.id}`).set(ADMIN).expect(200);
    expect(child.text).toContain(`class="parent" href="/ops/jobs/jobs/${parent}"`);

    const acme = { 'x-account-id': 'acme' };
    const scoped = await request(http).get(`/my/jobs/jobs/${parent}`).set(acme).expect(200);
    expect(scoped.text).toContain(`href="/my/jobs/jobs/${own.id}"`);
    expect(scoped.text).not.toContain(`/jobs/${foreign.id}"`);
    // globex sees its job, but not the acme job that enqueued it (not even its id).
    const globex = { 'x-account-id': 'globex' };
    const theirs = await request(http).get(`/my/jobs/jobs/${foreign.id}`).set(globex).expect(200);
    expect(theirs.text).not.toContain(`#${parent}`);
    await request(http).get(`/my/jobs/jobs/${parent}`).set(globex).expect(404);
  });

  it('pages through the children 50 at a time, newest first', async () => {
    const parent = await jobs.performLater(ParentJob, { children: 55 }, { accountId: 'acme' });
    await waitForJobState(jobs, parent, 'completed');
    const first = await request(http).get(`/ops/jobs/jobs/${parent}`).set(ADMIN).expect(200);
    const ids = (text: string) =>
      [...text.matchAll(/<td class="num"><a href="\/ops\/jobs\/jobs\/(\d+)">/g)].map((m) => m[1]);
    const page1 = ids(first.text);
    expect(page1).toHaveLength(50);
    const next = /href="([^"]*children_before=(\d+))"/.exec(first.text);
    expect(next?.[2]).toBe(page1[49]);
    const second = await request(http).get(next![1].replace(/&amp;/g, '&')).set(ADMIN).expect(200);
    const page2 = ids(second.text);
    expect(page2).toHaveLength(5);
    expect(new Set([...page1, ...page2]).size).toBe(55);
    expect(BigInt(page1[0])).toBeGreaterThan(BigInt(page2[0]));
    await request(http).get(`/ops/jobs/jobs/${parent}?children_before=x`).set(ADMIN).expect(400);
  });
});
