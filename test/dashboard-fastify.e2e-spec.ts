/**
 * The dashboard on Nest's Fastify adapter (@nestjs/platform-fastify, whose FastifyAdapter parses the
 * forms' urlencoded bodies): pages render with their security headers, an action works with its CSRF
 * token and not without, and the guard denies.
 */
import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { FastifyAdapter, NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import request from 'supertest';
import { JobFlowControl, JobsDashboardModule, JobsModule } from 'nestjs-tenant-jobs';
import { createTestDatabase, TestDatabase } from './support/database';
import { trackApp } from './support/open-apps';

jest.setTimeout(30_000);

/** Lets a request in when it carries the operator's header. */
@Injectable()
class OperatorGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const req = context.switchToHttp().getRequest<{ headers: Record<string, unknown> }>();
    return req.headers['x-operator'] === 'yes';
  }
}

describe('dashboard on Fastify', () => {
  let db: TestDatabase;
  let app: NestFastifyApplication;
  const OPERATOR = { 'x-operator': 'yes' };

  beforeAll(async () => {
    db = await createTestDatabase();
    const moduleRef = await Test.createTestingModule({
      imports: [
        ClsModule.forRoot({ global: true }),
        TypeOrmModule.forRoot({ type: 'postgres', url: db.url, extra: { max: 5 } }),
        JobsModule.forRoot({ runMigrations: true, worker: { enabled: false } }),
        JobsDashboardModule.forRoot({ path: '/ops/jobs', guard: OperatorGuard }),
      ],
    }).compile();
    app = trackApp(
      moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), {
        logger: false,
      }),
      'dashboard on fastify',
    );
    await app.init();
    await app.getHttpAdapter().getInstance().ready();
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('renders every page with its Content-Security-Policy, and the assets', async () => {
    const http = app.getHttpServer();
    for (const path of ['', '/jobs', '/jobs?state=failed', '/schedules', '/workers', '/accounts']) {
      const res = await request(http).get(`/ops/jobs${path}`).set(OPERATOR).expect(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toContain("script-src 'self'");
      expect(res.text).toContain('<link rel="stylesheet" href="/ops/jobs/assets/dashboard.css">');
    }
    const css = await request(http).get('/ops/jobs/assets/dashboard.css').set(OPERATOR).expect(200);
    expect(css.headers['content-type']).toContain('text/css');
    await request(http).get('/ops/jobs/jobs/123').set(OPERATOR).expect(404);
    await request(http).get('/ops/jobs/jobs?state=nope').set(OPERATOR).expect(400);
  });

  it('resumes and pauses a queue with the CSRF token, and refuses the form without it', async () => {
    const http = app.getHttpServer();
    const flow = app.get(JobFlowControl);
    await flow.pauseQueue('mailers'); // the overview lists a paused queue, with its Resume form
    const page = await request(http).get('/ops/jobs').set(OPERATOR).expect(200);
    const cookie = (page.headers['set-cookie'] as unknown as string[])[0].split(';')[0];
    expect(cookie).toMatch(/^jobs_dashboard_csrf=/);
    expect(page.text).toContain('action="/ops/jobs/queues/mailers/resume"');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
    const post = (path: string, token?: string) =>
      request(http)
        .post(path)
        .set(OPERATOR)
        .set('cookie', cookie)
        .type('form')
        .send(token === undefined ? {} : { _csrf: token });

    await post('/ops/jobs/queues/mailers/resume').expect(403);
    await post('/ops/jobs/queues/mailers/resume', 'forged.token').expect(403);
    expect(await flow.listPaused()).toHaveLength(1);

    const resumed = await post('/ops/jobs/queues/mailers/resume', csrf).expect(303);
    expect(resumed.headers.location).toBe('/ops/jobs?notice=resumed');
    expect(await flow.listPaused()).toEqual([]);
    await post('/ops/jobs/queues/mailers/pause', csrf).expect(303);
    expect((await flow.listPaused()).map((p) => p.key)).toEqual(['mailers']);
    await flow.resumeQueue('mailers');
  });

  it('a denying guard answers 403 on pages, assets and actions', async () => {
    const http = app.getHttpServer();
    for (const path of ['', '/jobs', '/accounts', '/assets/dashboard.js']) {
      await request(http).get(`/ops/jobs${path}`).expect(403);
    }
    await request(http).post('/ops/jobs/queues/mailers/pause').type('form').send({}).expect(403);
    expect(await app.get(JobFlowControl).listPaused()).toEqual([]);
  });
});
