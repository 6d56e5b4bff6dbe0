import type { EntityManager } from 'typeorm';
import { InvalidPayloadError, JobsError, MissingTenantError } from '../errors';
import { JobQueueService } from '../queue/job-queue.service';
import {
  createJobsTestingApp,
  JobsTestingApp,
  NoteJob,
  performed,
  ReportJob,
  WaitJob,
} from './jobs-testing.fixture-spec';
import { JOB_STORE } from '../persistence/job-store';
import { InMemoryJobStore } from './in-memory-job.store';

/** Capture mode: `JobQueueService` records jobs in memory, with the real validation and tenant rules. */
describe('JobQueueService on the in-memory store (capture mode)', () => {
  let app: JobsTestingApp;

  beforeEach(async () => {
    app = await createJobsTestingApp({ mode: 'capture' });
  });

  afterEach(() => app.moduleRef.close());

  it('keeps the real JobQueueService and swaps its store, without any database', () => {
    expect(app.queue).toBeInstanceOf(JobQueueService);
    expect(app.moduleRef.get(JOB_STORE)).toBeInstanceOf(InMemoryJobStore);
  });

  it('records a job with its captured account, ids increasing, and performs nothing', async () => {
    const first = await app.inAccount('acc-1', () =>
      app.queue.performLater(NoteJob, { text: 'hi' }),
    );
    const second = await app.inAccount('acc-2', () =>
      app.queue.performLater(NoteJob, { text: 'ho' }, { queue: 'urgent', priority: -1 }),
    );
    expect([first, second]).toEqual(['1', '2']);
    expect(app.helper.enqueued()).toMatchObject([
      {
        id: '1',
        job: NoteJob,
        name: 'note',
        payload: { text: 'hi' },
        accountId: 'acc-1',
        queue: 'default',
        priority: 0,
        maxAttempts: 25,
        state: 'available',
        attempts: 0,
        runAt: undefined,
        delayMs: undefined,
        uniqueKey: undefined,
      },
      { id: '2', accountId: 'acc-2', queue: 'urgent', priority: -1 },
    ]);
    expect(performed).toEqual([]);
  });

  it('records a bulk enqueue in order, each item with its own options', async () => {
    const ids = await app.inAccount('acc-1', () =>
      app.queue.performAllLater(NoteJob, [
        { payload: { text: 'a' } },
        { payload: { text: 'b' }, accountId: 'acc-9', delayMs: 1_500.4 },
      ]),
    );
    expect(ids).toEqual(['1', '2']);
    const [a, b] = app.helper.enqueued();
    expect(a).toMatchObject({ payload: { text: 'a' }, accountId: 'acc-1', delayMs: undefined });
    expect(b).toMatchObject({ payload: { text: 'b' }, accountId: 'acc-9', delayMs: 1_500 });
    expect(b.scheduledAt.getTime() - b.enqueuedAt.getTime()).toBe(1_500);
    expect(a.scheduledAt).toEqual(a.enqueuedAt);
  });

  it('records runAt as given, and the payload in its JSON form', async () => {
    const runAt = new Date('2030-01-01T00:00:00Z');
    await app.queue.performLater(ReportJob, { day: 'monday', extra: undefined } as never, {
      runAt,
    });
    const [job] = app.helper.enqueued({ job: ReportJob });
    expect(job).toMatchObject({ runAt, scheduledAt: runAt, accountId: null, queue: 'reports' });
    expect(job.payload).toStrictEqual({ day: 'monday' });
  });

  it('still rejects an invalid payload, recording nothing of the bulk', async () => {
    const error = await app
      .inAccount('acc-1', () =>
        app.queue.performAllLater(NoteJob, [
          { payload: { text: 'ok' } },
          { payload: { text: 42 } as never },
        ]),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect((error as Error).message).toContain('[1].text');
    expect(app.helper.enqueued()).toEqual([]);
  });

  it('still enforces maxPayloadBytes', async () => {
    await app.moduleRef.close();
    app = await createJobsTestingApp({ maxPayloadBytes: 32 });
    await expect(
      app.inAccount('acc-1', () => app.queue.performLater(NoteJob, { text: 'x'.repeat(64) })),
    ).rejects.toThrow('over the 32-byte limit');
    expect(app.helper.enqueued()).toEqual([]);
  });

  it('still fails closed: a tenant-scoped job without an account is refused', async () => {
    await expect(app.queue.performLater(NoteJob, { text: 'orphan' })).rejects.toBeInstanceOf(
      MissingTenantError,
    );
    expect(app.helper.enqueued()).toEqual([]);
    // System code may name the account; global jobs need none.
    await app.queue.performLater(NoteJob, { text: 'system' }, { accountId: 'acc-7' });
    await app.queue.performLater(ReportJob, { day: 'today' });
    expect(app.helper.enqueued().map((j) => j.accountId)).toEqual(['acc-7', null]);
  });

  it('records a bulk enqueue of hundreds of jobs, and rejects one with an invalid item', async () => {
    const items = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ payload: { text: `t${i}` }, accountId: 'acc-1' }));
    const ids = await app.queue.performAllLater(NoteJob, items(300));
    expect(ids).toHaveLength(300);
    expect(app.helper.enqueued().map((j) => j.payload)).toEqual(items(300).map((i) => i.payload));
    const invalid = items(300);
    invalid[120].payload = { text: 42 } as never;
    const error = await app.queue.performAllLater(NoteJob, invalid).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect((error as InvalidPayloadError).fields.map((f) => f.field)).toEqual(['[120].text']);
    expect(app.helper.enqueued()).toHaveLength(300); // nothing of the rejected batch recorded
  });

  it('deduplicates by uniqueKey while the holder is unfinished, like the real queue', async () => {
    const ids = await app.queue.performAllLater(ReportJob, [
      { payload: { day: 'a' }, uniqueKey: 'k' },
      { payload: { day: 'b' }, uniqueKey: 'k' },
      { payload: { day: 'c' } },
    ]);
    expect(ids).toEqual(['1', '1', '2']);
    expect(await app.queue.performLater(ReportJob, { day: 'd' }, { uniqueKey: 'k' })).toBe('1');
    await app.helper.performEnqueued();
    expect(await app.queue.performLater(ReportJob, { day: 'e' }, { uniqueKey: 'k' })).toBe('3');
  });

  it('ignores the transaction manager: the job is recorded at once', async () => {
    const manager = {} as EntityManager; // never touched
    await app.inAccount('acc-1', () =>
      app.queue.performLater(NoteJob, { text: 'tx' }, { manager }),
    );
    expect(app.helper.enqueued()).toHaveLength(1);
  });

  it('find() and countByState() report captured jobs, scheduled ones apart', async () => {
    await app.queue.performLater(ReportJob, { day: 'now' });
    await app.queue.performLater(ReportJob, { day: 'later' }, { delayMs: 60_000 });
    await app.inAccount('acc-1', () => app.queue.performLater(NoteJob, { text: 'boom' }));
    await app.helper.performEnqueued({ only: NoteJob });

    expect(await app.queue.find('1')).toMatchObject({
      id: '1',
      name: 'report',
      state: 'available',
      payload: { day: 'now' },
      accountId: null,
      attempts: 0,
      uniqueKey: null,
      lastError: null,
    });
    expect(await app.queue.find('2')).toMatchObject({ state: 'scheduled' });
    expect(await app.queue.find('3')).toMatchObject({
      state: 'failed',
      attempts: 1,
      lastError: { attempt: 1, name: 'Error', message: 'boom' },
    });
    expect(await app.queue.find('99')).toBeNull();
    expect(await app.queue.find('not-a-number')).toBeNull();
    expect(await app.queue.countByState()).toEqual([
      { queue: 'default', state: 'failed', count: 1, paused: false },
      { queue: 'reports', state: 'available', count: 1, paused: false },
      { queue: 'reports', state: 'scheduled', count: 1, paused: false },
    ]);
  });

  it('cancel() stops an unfinished job from being performed', async () => {
    const id = await app.queue.performLater(ReportJob, { day: 'x' });
    expect(await app.queue.cancel(id)).toBe(true);
    expect(await app.queue.cancel(id)).toBe(false);
    expect(await app.queue.cancel('42')).toBe(false);
    expect((await app.helper.performEnqueued()).performed).toEqual([]);
    expect(app.helper.enqueued()).toMatchObject([{ id, state: 'cancelled' }]);
  });

  it('cancel() aborts a running job and drops its outcome', async () => {
    const id = await app.queue.performLater(WaitJob, {});
    const performing = app.helper.performEnqueued();
    await new Promise((resolve) => setImmediate(resolve)); // let it start
    expect(await app.queue.find(id)).toMatchObject({ state: 'running' });

    expect(await app.queue.cancel(id)).toBe(true);
    const summary = await performing;

    expect(summary.failed).toEqual([]); // it threw JobCancelledError, but was cancelled, not failed
    expect(app.helper.enqueued()).toMatchObject([{ id, state: 'cancelled', attempts: 0 }]);
  });

  it('performNow() runs the job now in the given account, recording nothing', async () => {
    const result = await app.queue.performNow(NoteJob, { text: 'now' }, { accountId: 'acc-3' });
    expect(result).toBe('noted now');
    expect(performed).toEqual([{ job: 'note', text: 'now', clsAccount: 'acc-3', attempt: 1 }]);
    expect(app.helper.enqueued()).toEqual([]);
  });

  it.each([
    ['listFailed', (q: JobQueueService) => q.listFailed()],
    ['retry', (q: JobQueueService) => q.retry('1')],
    ['discard', (q: JobQueueService) => q.discard('1')],
    ['purge', (q: JobQueueService) => q.purge({ olderThanMs: 0 })],
    ['oncePerTick', (q: JobQueueService) => q.performLater(ReportJob, {}, { oncePerTick: 'c' })],
    ['oncePerTick', (q: JobQueueService) => q.performAllLater(ReportJob, [], { oncePerTick: 'c' })],
  ])('%s throws a JobsError pointing at the real JobsModule', async (name, call) => {
    const error = await call(app.queue).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobsError);
    expect((error as Error).message).toBe(
      `${name} needs the real JobsModule (PostgreSQL): JobsTestingModule keeps jobs in memory and ` +
        `does not implement it. Test this code against JobsModule.forRoot() with a database instead.`,
    );
  });
});
