import { Controller, INestApplication, Module, Post } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import type { Server } from 'node:http';
import { ClsModule } from 'nestjs-cls';
import request from 'supertest';
import { Job, JobContext, JobHandler, JobQueueService, JobsModule } from 'nestjs-tenant-jobs';
import { createTestDatabase, TestDatabase, withClient } from './support/database';
import { waitForJobState } from './support/jobs';
import { trackApp } from './support/open-apps';
import { waitFor } from './support/wait-for';

const exporter = new InMemorySpanExporter();
const tracer = () => trace.getTracer('test-app');

/** Fails its first attempt (inside a span of its own), completes the second. */
@Job({
  name: 'mail.send',
  queue: 'mailers',
  maxAttempts: 3,
  backoff: { type: 'fixed', baseMs: 20, jitter: 0 },
})
class SendMailJob implements JobHandler<{ to: string }> {
  perform(payload: { to: string }, ctx: JobContext): Promise<string> {
    return tracer().startActiveSpan('smtp.send', (span) => {
      span.end();
      if (ctx.attempt === 1) return Promise.reject(new Error('smtp timeout'));
      return Promise.resolve(`sent to ${payload.to}`);
    });
  }
}

/** Stands in for HTTP instrumentation: each request runs inside a SERVER span. */
@Controller('mail')
class MailController {
  constructor(private readonly jobs: JobQueueService) {}

  @Post()
  send(): Promise<{ id: string }> {
    return tracer().startActiveSpan('POST /mail', { kind: SpanKind.SERVER }, async (span) => {
      try {
        return { id: await this.jobs.performLater(SendMailJob, { to: 'ada@example.com' }) };
      } finally {
        span.end();
      }
    });
  }
}

describe('OpenTelemetry traces (an HTTP request → enqueue → perform)', () => {
  let db: TestDatabase;
  let app: INestApplication;
  let provider: BasicTracerProvider;

  beforeAll(async () => {
    // What an app's tracing.ts does before Nest starts: a context manager and a tracer provider.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    db = await createTestDatabase();

    @Module({
      imports: [
        ClsModule.forRoot({ global: true }),
        TypeOrmModule.forRoot({ type: 'postgres', url: db.url, extra: { max: 4 } }),
        JobsModule.forRoot({
          runMigrations: true,
          worker: { pollIntervalMs: 100 },
        }),
      ],
      controllers: [MailController],
      providers: [SendMailJob],
    })
    class TracedApp {}

    const moduleRef = await Test.createTestingModule({ imports: [TracedApp] }).compile();
    app = trackApp(moduleRef.createNestApplication({ logger: false }), 'traced app');
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await provider?.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });

  const spans = (name: string): ReadableSpan[] =>
    exporter.getFinishedSpans().filter((s) => s.name === name);

  it('the producer span is a child of the request span; each attempt’s consumer span links to it', async () => {
    const res = await request(app.getHttpServer() as Server)
      .post('/mail')
      .expect(201);
    const id = (res.body as { id: string }).id;
    await waitForJobState(app.get(JobQueueService), id, 'completed');
    await waitFor(() => spans('process mailers').length === 2, { message: 'two consumer spans' });

    const [http] = spans('POST /mail');
    const [send] = spans('send mailers');
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.spanContext().traceId).toBe(http.spanContext().traceId);
    expect(send.parentSpanContext?.spanId).toBe(http.spanContext().spanId);
    expect(send.attributes).toMatchObject({
      'messaging.system': 'nestjs-tenant-jobs',
      'messaging.operation.type': 'send',
      'messaging.destination.name': 'mailers',
      'messaging.message.id': id,
      'jobs.name': 'mail.send',
    });

    const attempts = spans('process mailers').sort(
      (a, b) => Number(a.attributes['jobs.attempt']) - Number(b.attributes['jobs.attempt']),
    );
    for (const [n, span] of attempts.entries()) {
      expect(span.kind).toBe(SpanKind.CONSUMER);
      // A link to the producer, not a parent: a trace of its own, across the retry too.
      expect(span.parentSpanContext).toBeUndefined();
      expect(span.spanContext().traceId).not.toBe(send.spanContext().traceId);
      expect(span.links.map((l) => l.context.spanId)).toEqual([send.spanContext().spanId]);
      expect(span.links[0].context.traceId).toBe(send.spanContext().traceId);
      expect(span.attributes).toMatchObject({
        'messaging.system': 'nestjs-tenant-jobs',
        'messaging.operation.type': 'process',
        'messaging.destination.name': 'mailers',
        'messaging.message.id': id,
        'jobs.name': 'mail.send',
        'jobs.attempt': n + 1,
      });
    }
    const [failed, succeeded] = attempts;
    expect(failed.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'smtp timeout' });
    expect(failed.events.map((e) => [e.name, e.attributes?.['exception.message']])).toEqual([
      ['exception', 'smtp timeout'],
    ]);
    expect(failed.attributes['jobs.outcome']).toBe('retrying');
    expect(succeeded.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(succeeded.attributes['jobs.outcome']).toBe('completed');

    // The handler's own spans are children of its attempt's span.
    const smtp = spans('smtp.send');
    expect(smtp.map((s) => s.parentSpanContext?.spanId).sort()).toEqual(
      attempts.map((a) => a.spanContext().spanId).sort(),
    );
  });

  it('concurrent enqueues, coalesced into one insert, keep one producer span each and their own traceparent', async () => {
    exporter.reset();
    const jobs = app.get(JobQueueService);
    const ids = await Promise.all(
      Array.from({ length: 20 }, (_, n) =>
        tracer().startActiveSpan(`request ${n}`, { kind: SpanKind.SERVER }, async (span) => {
          try {
            return await jobs.performLater(SendMailJob, { to: `user${n}@example.com` });
          } finally {
            span.end();
          }
        }),
      ),
    );
    const stored = await withClient(db.url, async (c) => {
      const { rows } = await c.query<{ id: string; trace_context: string }>(
        'select id::text, trace_context from jobs.jobs where id = any($1::bigint[])',
        [ids],
      );
      return new Map(rows.map((r) => [r.id, r.trace_context]));
    });
    const sends = spans('send mailers');
    expect(sends).toHaveLength(20);
    ids.forEach((id, n) => {
      const [request] = spans(`request ${n}`);
      const send = sends.find((s) => s.attributes['messaging.message.id'] === id);
      expect(send?.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
      const { traceId, spanId } = send!.spanContext();
      expect(stored.get(id)).toBe(`00-${traceId}-${spanId}-01`);
    });
    // Let every attempt end (each job fails once), so that no span of these leaks into the next test.
    for (const id of ids) await waitForJobState(jobs, id, 'completed');
    await waitFor(() => spans('process mailers').length === 40, { message: '40 consumer spans' });
  });

  it('an enqueue outside any span still traces: a root producer span, linked from the attempt', async () => {
    exporter.reset();
    const jobs = app.get(JobQueueService);
    const id = await jobs.performLater(SendMailJob, { to: 'grace@example.com' });
    await waitForJobState(jobs, id, 'completed');
    await waitFor(() => spans('process mailers').length === 2, { message: 'two consumer spans' });
    const [send] = spans('send mailers');
    expect(send.parentSpanContext).toBeUndefined();
    for (const span of spans('process mailers'))
      expect(span.links[0].context.spanId).toBe(send.spanContext().spanId);
  });
});
