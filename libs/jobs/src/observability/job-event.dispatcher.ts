import { Inject, Injectable, LoggerService, OnApplicationShutdown } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { toError } from '../errors';
import { JOB_ID_CLS_KEY } from '../jobs.constants';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import type { JobEvent, JobEventType } from './job-event.types';
import { libraryLogger } from './library-logger';

/** One discovered `@OnJobEvent` method, bound to its provider. */
export interface JobEventListener {
  /** `Class.method`, for log lines. */
  readonly label: string;
  readonly call: (event: JobEvent) => unknown;
  /** Only events of these job names; `undefined`: every job (and `rescued`). */
  readonly jobNames: ReadonlySet<string> | undefined;
  readonly timeoutMs: number;
}

/** Listener calls queued or running at most; beyond it events are dropped (and that is logged). */
const MAX_PENDING_CALLS = 10_000;

/**
 * Delivers job events to their listeners, never on the caller's path: `emit` only queues the calls, and
 * one `setImmediate` per turn of the event loop starts them, so the worker's slots and statements never
 * wait for a listener. Each call runs in a fresh CLS context holding the job's id and account (as the
 * job itself did), is bounded by its timeout (a late call is logged and no longer waited for) and has
 * its error logged. On shutdown (after the worker drained, so its last outcomes are in) the queued calls
 * start and the running ones are waited for, each within its timeout.
 */
@Injectable()
export class JobEventDispatcher implements OnApplicationShutdown {
  private readonly logger: LoggerService;
  private readonly byType = new Map<JobEventType, JobEventListener[]>();
  private pending: Array<[JobEventListener, JobEvent]> = [];
  private readonly running = new Set<Promise<void>>();
  private flushScheduled = false;
  private closed = false;
  private dropped = 0;

  constructor(
    private readonly cls: ClsService,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
  ) {
    this.logger = libraryLogger(options.logger, 'JobEvents');
  }

  /** Registers a listener for some event types (at module init). */
  add(types: readonly JobEventType[], listener: JobEventListener): void {
    for (const type of types) {
      const list = this.byType.get(type);
      if (list) list.push(listener);
      else this.byType.set(type, [listener]);
    }
  }

  /** True when any listener exists: the lifecycle builds no event object otherwise. */
  get hasListeners(): boolean {
    return this.byType.size > 0;
  }

  /** True when some listener wants events of `type`. */
  listens(type: JobEventType): boolean {
    return this.byType.has(type);
  }

  /** Queues the calls of the listeners of `event`; they start on the next turn of the event loop. */
  emit(event: JobEvent): void {
    const listeners = this.byType.get(event.type);
    if (!listeners || this.closed) return;
    const name = event.type === 'rescued' ? undefined : event.name;
    for (const listener of listeners) {
      if (listener.jobNames && (name === undefined || !listener.jobNames.has(name))) continue;
      if (this.pending.length + this.running.size >= MAX_PENDING_CALLS) {
        this.dropped++;
        continue;
      }
      this.pending.push([listener, event]);
    }
    if (this.pending.length > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Starts the queued calls and waits for the running ones (each within its timeout). */
  async onApplicationShutdown(): Promise<void> {
    this.flush();
    this.closed = true;
    await Promise.all([...this.running]);
  }

  private flush(): void {
    this.flushScheduled = false;
    const calls = this.pending;
    this.pending = [];
    for (const [listener, event] of calls) this.start(listener, event);
    if (this.dropped > 0) {
      this.logger.warn(
        `${this.dropped} job event listener call(s) dropped: more than ${MAX_PENDING_CALLS} were waiting (slow listeners?)`,
      );
      this.dropped = 0;
    }
  }

  private start(listener: JobEventListener, event: JobEvent): void {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), listener.timeoutMs);
    });
    const call = this.inContext(event, () => listener.call(event)).then(
      () => 'done' as const,
      (error: unknown) => {
        this.logger.error(
          `Listener ${listener.label} failed on "${event.type}"${describe(event)}: ${toError(error).message}`,
        );
        return 'done' as const;
      },
    );
    const settled: Promise<void> = Promise.race([call, timedOut]).then((how) => {
      clearTimeout(timer);
      this.running.delete(settled);
      if (how === 'timeout')
        this.logger.warn(
          `Listener ${listener.label} on "${event.type}"${describe(event)} did not settle within ${listener.timeoutMs} ms; no longer waited for`,
        );
    });
    this.running.add(settled);
  }

  /** Runs `fn` in a fresh CLS context holding the job's id and account (the job's own context). */
  private inContext(event: JobEvent, fn: () => unknown): Promise<unknown> {
    const store: Record<string, unknown> = {};
    const key = this.options.tenant?.clsKey;
    const accountId = event.type === 'rescued' ? null : event.accountId;
    if (event.type !== 'rescued') store[JOB_ID_CLS_KEY] = event.id;
    if (key && accountId !== null && !key.includes('.')) store[key] = accountId;
    return this.cls.runWith(store, () => {
      try {
        if (key && accountId !== null && key.includes('.')) this.cls.set(key, accountId);
        return Promise.resolve(fn());
      } catch (error) {
        return Promise.reject(toError(error));
      }
    });
  }
}

function describe(event: JobEvent): string {
  return event.type === 'rescued' ? '' : ` of job ${event.name} #${event.id}`;
}
