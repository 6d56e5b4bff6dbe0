import type { Attributes, Link, Span, SpanContext, Tracer } from '@opentelemetry/api';
import type { JobAttempt } from '../persistence/job-attempt';
import { type AttemptOutcome, outcomeName } from './attempt-outcome';
import { hasTracerProvider, loadOtelPackage, type OtelPackage } from './otel-package';

/** `messaging.system` of every span (OTel messaging semantic conventions). */
export const MESSAGING_SYSTEM = 'nestjs-tenant-jobs';
/** The instrumentation scope's name (tracer and meter). */
export const INSTRUMENTATION_SCOPE = 'nestjs-tenant-jobs';

/** A W3C `traceparent`: version 00, trace id, span id, flags. */
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/**
 * OpenTelemetry spans for jobs, following the messaging semantic conventions:
 * - `send <queue>` (kind PRODUCER) around an enqueue, a child of the caller's span (an HTTP request's,
 *   say); its context is stored with each job as a W3C `traceparent`;
 * - `process <queue>` (kind CONSUMER) around each attempt, the root of a trace of its own that LINKS to
 *   the stored context (a link, not a parent: the work is deferred, and each retry is a new attempt with
 *   the same link), active while the handler runs, so the handler's own spans are its children. A failed
 *   attempt records the exception and sets status ERROR.
 *
 * Made only when `@opentelemetry/api` is installed and an SDK registered a tracer provider.
 */
export class JobTracing {
  private readonly tracer: Tracer;

  private constructor(
    private readonly api: OtelPackage,
    private readonly accountIdOnSpans: boolean,
  ) {
    this.tracer = api.trace.getTracer(INSTRUMENTATION_SCOPE);
  }

  /** The tracing of this process, or `undefined` without the API or a registered SDK. */
  static create(options: { tracing: boolean; accountIdOnSpans: boolean }): JobTracing | undefined {
    if (!options.tracing) return undefined;
    const api = loadOtelPackage();
    return api && hasTracerProvider(api)
      ? new JobTracing(api, options.accountIdOnSpans)
      : undefined;
  }

  /** Runs an enqueue (`fn`) inside its `send <queue>` span; `fn` resolves with the new jobs' ids. */
  send<T extends readonly string[]>(
    job: { name: string; queue: string },
    count: number,
    fn: () => Promise<T>,
  ): Promise<T> {
    const attributes: Attributes = {
      'messaging.system': MESSAGING_SYSTEM,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': job.queue,
      'jobs.name': job.name,
    };
    if (count > 1) attributes['messaging.batch.message_count'] = count;
    const span = this.tracer.startSpan(`send ${job.queue}`, {
      kind: this.api.SpanKind.PRODUCER,
      attributes,
    });
    const ctx = this.api.trace.setSpan(this.api.context.active(), span);
    return this.api.context.with(ctx, fn).then(
      (ids) => {
        if (ids.length === 1) span.setAttribute('messaging.message.id', ids[0]);
        span.end();
        return ids;
      },
      (error: unknown) => {
        this.fail(span, error instanceof Error ? error : new Error(String(error)));
        span.end();
        throw error;
      },
    );
  }

  /**
   * The active span's context as a W3C `traceparent` (inside `send`: the producer span's), or `null`.
   * Written in W3C form whatever propagators the app registered for its HTTP traffic (B3, Jaeger…), so
   * any worker reads it back the same way.
   */
  traceparent(): string | null {
    const sc = this.api.trace.getSpanContext(this.api.context.active());
    if (!sc || !this.api.isSpanContextValid(sc)) return null;
    return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
  }

  /** Starts the `process <queue>` span of an attempt, linked to the enqueue's stored context. */
  startProcess(job: JobAttempt): Span {
    const attributes: Attributes = {
      'messaging.system': MESSAGING_SYSTEM,
      'messaging.operation.type': 'process',
      'messaging.operation.name': 'process',
      'messaging.destination.name': job.queue,
      'messaging.message.id': job.id,
      'jobs.name': job.name,
      'jobs.attempt': job.attempt,
      'jobs.max_attempts': job.maxAttempts,
    };
    if (this.accountIdOnSpans && job.accountId !== null)
      attributes['jobs.account_id'] = job.accountId;
    const links: Link[] = [];
    const linked = job.traceContext ? this.extract(job.traceContext) : undefined;
    if (linked) links.push({ context: linked });
    return this.tracer.startSpan(`process ${job.queue}`, {
      kind: this.api.SpanKind.CONSUMER,
      attributes,
      links,
      root: true,
    });
  }

  /** Runs `fn` with `span` as the active span (the handler's spans become its children). */
  within<T>(span: Span, fn: () => Promise<T>): Promise<T> {
    return this.api.context.with(this.api.trace.setSpan(this.api.ROOT_CONTEXT, span), fn);
  }

  /** Ends an attempt's span with its outcome; a failure records the error and sets status ERROR. */
  endProcess(span: Span, outcome: AttemptOutcome): void {
    span.setAttribute('jobs.outcome', outcomeName(outcome));
    if (outcome.kind === 'retry' || outcome.kind === 'fail') {
      const e = outcome.error;
      this.fail(span, { name: e.name, message: e.message, stack: e.stack });
    }
    span.end();
  }

  private fail(span: Span, error: { name: string; message: string; stack?: string }): void {
    span.recordException(error);
    span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: error.message });
  }

  /** The span context a stored `traceparent` names; `undefined` for anything malformed. */
  private extract(traceparent: string): SpanContext | undefined {
    const m = TRACEPARENT.exec(traceparent);
    if (!m) return undefined;
    const sc: SpanContext = {
      traceId: m[1],
      spanId: m[2],
      traceFlags: parseInt(m[3], 16),
      isRemote: true,
    };
    return this.api.isSpanContextValid(sc) ? sc : undefined;
  }
}
