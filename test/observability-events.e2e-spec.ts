import { Injectable, Logger } from '@nestjs/common';
import { TestingModule } from '@nestjs/testing';
import { ClsService } from 'nestjs-cls';
import { DataSource } from 'typeorm';
import {
  Job,
  JobCompletedEvent,
  JobContext,
  JobEvent,
  JobFailedEvent,
  JobHandler,
  JobQueueService,
  JobRetryingEvent,
  OnJobEvent,
} from 'nestjs-tenant-jobs';
import { createTestDatabase, TestDatabase } from './support/database';
import { createJobsApp } from './support/jobs-app';
import { waitForJobState } from './support/jobs';
import { waitFor } from './support/wait-for';

const CLS_KEY = 'accountId';

/** Fails its first `failUntil - 1` attempts, then returns `{ ok: attempt }`. */
@Job({ name: 'events.flaky', maxAttempts: 3, backoff: { type: 'fixed', baseMs: 20, jitter: 0 } })
class FlakyJob implements JobHandler<{ failUntil: number }> {
  perform(payload: { failUntil: number }, ctx: JobContext): { ok: number } {
    if (ctx.attempt < payload.failUntil) throw new Error(`attempt ${ctx.attempt} failed`);
    return { ok: ctx.attempt };
  }
}

@Job({ name: 'events.doomed', maxAttempts: 2, backoff: { type: 'fixed', baseMs: 20, jitter: 0 } })
class DoomedJob implements JobHandler {
  perform(): never {
    throw new Error('always fails');
  }
}

@Job({ name: 'events.snoozy', tenant: 'none' })
class SnoozyJob implements JobHandler {
  perform(_payload: unknown, ctx: JobContext): string {
    if (ctx.attempt === 1 && !snoozed.has(ctx.id)) {
      snoozed.add(ctx.id);
      return ctx.snooze(20);
    }
    return 'awake';
  }
}
const snoozed = new Set<string>();

/** Runs until its signal is aborted (a cancel). */
@Job({ name: 'events.endless', tenant: 'none' })
class EndlessJob implements JobHandler {
  perform(_payload: unknown, ctx: JobContext): Promise<void> {
    return new Promise((_, reject) =>
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)),
    );
  }
}

/** What a listener saw, with the state of the job's row at that moment and the CLS account. */
interface Seen {
  event: JobEvent;
  rowState: string | undefined;
  /** Failures recorded on the row when the listener ran. */
  rowErrors: number | undefined;
  cls: unknown;
}

@Injectable()
class Recorder {
  readonly all: Seen[] = [];
  readonly failedOnly: JobFailedEvent[] = [];
  constructor(
    private readonly cls: ClsService,
    private readonly dataSource: DataSource,
  ) {}

  @OnJobEvent(['enqueued', 'started', 'completed', 'retrying', 'failed', 'snoozed', 'cancelled'])
  async record(event: JobEvent): Promise<void> {
    // Kept in the order the events came (the look-ups below may finish in another).
    const seen: Seen = {
      event,
      rowState: undefined,
      rowErrors: undefined,
      cls: this.cls.get(CLS_KEY),
    };
    this.all.push(seen);
    if (event.type === 'rescued') return;
    const rows: Array<{ state: string; errors: number }> = await this.dataSource.query(
      'select state, jsonb_array_length(errors) as errors from jobs.jobs where id = $1',
      [event.id],
    );
    seen.rowErrors = rows[0]?.errors;
    seen.rowState = rows[0]?.state;
  }

  @OnJobEvent('failed', { job: DoomedJob })
  onlyDoomed(event: JobFailedEvent): void {
    this.failedOnly.push(event);
  }

  of(id: string, type?: string): Seen[] {
    return this.all.filter(
      (s) => s.event.type !== 'rescued' && s.event.id === id && (!type || s.event.type === type),
    );
  }
}

/** A listener that throws and one that never settles: neither may hold the worker back. */
class Hostile {
  calls = 0;
  @OnJobEvent('completed')
  explode(): never {
    this.calls++;
    throw new Error('listener exploded');
  }

  @OnJobEvent('completed', { timeoutMs: 50 })
  hang(): Promise<void> {
    this.calls++;
    return new Promise<void>(() => undefined);
  }
}

describe('lifecycle events (@OnJobEvent)', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let jobs: JobQueueService;
  let recorder: Recorder;
  let hostile: Hostile;
  const logged: string[] = [];

  const inAccount = <T>(accountId: string, fn: () => Promise<T>): Promise<T> => {
    const cls = app.get(ClsService);
    return cls.run(() => {
      cls.set(CLS_KEY, accountId);
      return fn();
    });
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    jest
      .spyOn(Logger.prototype, 'error')
      .mockImplementation((m: unknown) => void logged.push(String(m)));
    jest
      .spyOn(Logger.prototype, 'warn')
      .mockImplementation((m: unknown) => void logged.push(String(m)));
    app = await createJobsApp({
      url: db.url,
      jobs: { tenant: { clsKey: CLS_KEY } },
      // The hostile listeners come from a factory provider: discovery scans instances, not classes.
      providers: [
        FlakyJob,
        DoomedJob,
        SnoozyJob,
        EndlessJob,
        Recorder,
        { provide: 'HOSTILE', useFactory: () => new Hostile() },
      ],
    });
    jobs = app.get(JobQueueService);
    recorder = app.get(Recorder);
    hostile = app.get<Hostile>('HOSTILE');
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
    jest.restoreAllMocks();
  });

  it('reports enqueued, started, retrying and completed across a retry, after each is recorded, in the account', async () => {
    const id = await inAccount('acc-7', () => jobs.performLater(FlakyJob, { failUntil: 2 }));
    await waitForJobState(jobs, id, 'completed');
    await waitFor(() => recorder.of(id, 'completed').length === 1, { message: 'completed event' });

    // `enqueued` first, except when the worker started the job before the insert returned (README).
    const seen = recorder
      .of(id)
      .sort((a, b) => (a.event.type === 'enqueued' ? -1 : b.event.type === 'enqueued' ? 1 : 0));
    expect(seen.map((s) => [s.event.type, 'attempt' in s.event ? s.event.attempt : -1])).toEqual([
      ['enqueued', 0],
      ['started', 1],
      ['retrying', 1],
      ['started', 2],
      ['completed', 2],
    ]);
    for (const s of seen) {
      expect(s.cls).toBe('acc-7');
      expect(s.event).toMatchObject({
        id,
        name: 'events.flaky',
        queue: 'default',
        accountId: 'acc-7',
        maxAttempts: 3,
      });
    }
    const retrying = seen[2].event as JobRetryingEvent;
    expect(retrying.error).toMatchObject({
      attempt: 1,
      name: 'Error',
      message: 'attempt 1 failed',
    });
    expect(retrying.runAt).toBeInstanceOf(Date);
    expect(retrying.durationMs).toBeGreaterThanOrEqual(0);
    await waitFor(() => seen.every((s) => s.rowState), { message: 'the listeners’ look-ups' });
    expect(seen[2].rowErrors).toBe(1); // the failure was written before the listener ran
    const completed = seen[4].event as JobCompletedEvent;
    expect(completed.result).toEqual({ ok: 2 });
    expect(seen[4].rowState).toBe('completed'); // after the completion batch committed
  });

  it('reports failed once attempts are used up, also to a listener filtered to that job class only', async () => {
    const flaky = await inAccount('acc-1', () => jobs.performLater(FlakyJob, { failUntil: 1 }));
    const doomed = await inAccount('acc-1', () => jobs.performLater(DoomedJob, {}));
    await waitForJobState(jobs, doomed, 'failed');
    await waitForJobState(jobs, flaky, 'completed');
    await waitFor(() => recorder.of(doomed, 'failed').length === 1, { message: 'failed event' });

    // `enqueued` is reported once the insert returned, so a job a worker starts at once may report it
    // after `started`; the attempt events of one job come in order.
    const types = recorder.of(doomed).map((s) => s.event.type);
    expect(types.filter((t) => t === 'enqueued')).toHaveLength(1);
    expect(types.filter((t) => t !== 'enqueued')).toEqual([
      'started',
      'retrying',
      'started',
      'failed',
    ]);
    const failed = recorder.of(doomed, 'failed')[0];
    await waitFor(() => failed.rowState, { message: 'the listener’s look-up' });
    expect(failed.rowState).toBe('failed');
    expect(failed.event).toMatchObject({
      attempt: 2,
      error: { attempt: 2, message: 'always fails' },
    });
    await waitFor(() => recorder.failedOnly.length === 1, { message: 'filtered listener' });
    expect(recorder.failedOnly.map((e) => e.id)).toEqual([doomed]);
  });

  it('reports a snooze with the time it runs again', async () => {
    const id = await jobs.performLater(SnoozyJob, {});
    await waitForJobState(jobs, id, 'completed');
    await waitFor(() => recorder.of(id, 'completed').length === 1, { message: 'completed event' });
    // `enqueued` is reported when the insert returns: it may come after `started` (README).
    const types = recorder.of(id).map((s) => s.event.type);
    expect(types.filter((t) => t === 'enqueued')).toHaveLength(1);
    expect(types.filter((t) => t !== 'enqueued')).toEqual([
      'started',
      'snoozed',
      'started',
      'completed',
    ]);
    expect(recorder.of(id, 'snoozed')[0].cls).toBeUndefined(); // a global job: no account in CLS
  });

  it('reports a running job that is cancelled', async () => {
    const id = await jobs.performLater(EndlessJob, {});
    await waitFor(() => recorder.of(id, 'started').length === 1, { message: 'started event' });
    expect(await jobs.cancel(id)).toBe(true);
    await waitFor(() => recorder.of(id, 'cancelled').length === 1, { message: 'cancelled event' });
    const types = recorder.of(id).map((s) => s.event.type);
    expect(types.filter((t) => t === 'enqueued')).toHaveLength(1); // maybe after `started` (README)
    expect(types.filter((t) => t !== 'enqueued')).toEqual(['started', 'cancelled']);
    expect(recorder.of(id, 'cancelled')[0].event).toMatchObject({
      attempt: 1,
      name: 'events.endless',
    });
  });

  it('a throwing or never-settling listener is logged and changes nothing: later jobs run on', async () => {
    const before = hostile.calls;
    const ids = await inAccount('acc-2', () =>
      jobs.performAllLater(FlakyJob, [
        { payload: { failUntil: 1 } },
        { payload: { failUntil: 1 } },
      ]),
    );
    for (const id of ids) await waitForJobState(jobs, id, 'completed');
    await waitFor(() => hostile.calls >= before + 4, { message: 'hostile listeners called' });
    await waitFor(
      () =>
        logged.some((l) => l.includes('Hostile.hang') && l.includes('did not settle within 50 ms')),
      {
        message: 'timeout logged',
      },
    );
    expect(
      logged.some(
        (l) =>
          l.includes('Listener Hostile.explode failed on "completed"') &&
          l.includes('listener exploded'),
      ),
    ).toBe(true);
    for (const id of ids) expect((await jobs.find(id))?.result).toEqual({ ok: 1 });
  });
});
