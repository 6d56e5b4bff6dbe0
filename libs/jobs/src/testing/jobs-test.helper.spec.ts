import * as classValidator from 'class-validator';
import { JobsError } from '../errors';
import {
  ChainJob,
  createJobsTestingApp,
  ForeverJob,
  JobsTestingApp,
  NoteJob,
  NotePayload,
  performed,
  ReportJob,
} from './jobs-testing.fixture-spec';
import { InMemoryJobStore } from './in-memory-job.store';

describe('JobsTestHelper', () => {
  let app: JobsTestingApp;

  beforeEach(async () => {
    app = await createJobsTestingApp({ mode: 'capture' });
  });

  afterEach(() => app.moduleRef.close());

  /** Two notes in two accounts, and a report an hour from now. */
  async function enqueueSome(): Promise<void> {
    await app.inAccount('acc-1', () =>
      app.queue.performLater(NoteJob, { text: 'hello', n: 1 }, { queue: 'mail' }),
    );
    await app.inAccount('acc-2', () => app.queue.performLater(NoteJob, { text: 'bye', n: 2 }));
    await app.queue.performLater(ReportJob, { day: 'mon' }, { delayMs: 3_600_000 });
  }

  describe('enqueued(filter)', () => {
    it('lists every captured job, oldest first, without a filter', async () => {
      await enqueueSome();
      expect(app.helper.enqueued().map((j) => j.id)).toEqual(['1', '2', '3']);
    });

    it('filters by job class', async () => {
      await enqueueSome();
      expect(app.helper.enqueued({ job: ReportJob }).map((j) => j.id)).toEqual(['3']);
      expect(app.helper.enqueued({ job: ChainJob })).toEqual([]);
    });

    it('filters by partial payload, with nested objects, arrays and asymmetric matchers', async () => {
      await enqueueSome();
      expect(app.helper.enqueued({ payload: { text: 'hello' } }).map((j) => j.id)).toEqual(['1']);
      expect(app.helper.enqueued({ payload: { n: expect.any(Number) } })).toHaveLength(2);
      expect(app.helper.enqueued({ payload: { text: 'hello', n: 2 } })).toEqual([]);
      expect(app.helper.enqueued({ payload: { missing: 'x' } as never })).toEqual([]);
    });

    it('filters by account (null for global jobs) and queue', async () => {
      await enqueueSome();
      expect(app.helper.enqueued({ accountId: 'acc-2' }).map((j) => j.id)).toEqual(['2']);
      expect(app.helper.enqueued({ accountId: null }).map((j) => j.id)).toEqual(['3']);
      expect(app.helper.enqueued({ queue: 'mail' }).map((j) => j.id)).toEqual(['1']);
      expect(app.helper.enqueued({ queue: 'reports', accountId: 'acc-1' })).toEqual([]);
    });

    it('filters by run time: an exact instant or inclusive bounds', async () => {
      const at = new Date('2031-05-01T12:00:00Z');
      await app.queue.performLater(ReportJob, { day: 'a' }, { runAt: at });
      await app.queue.performLater(ReportJob, { day: 'b' }, { delayMs: 60_000 });
      await app.queue.performLater(ReportJob, { day: 'c' });
      const inAMinute = Date.now() + 60_000;

      expect(app.helper.enqueued({ runAt: at }).map((j) => j.id)).toEqual(['1']);
      expect(app.helper.enqueued({ runAt: { after: at } }).map((j) => j.id)).toEqual(['1']);
      expect(
        app.helper
          .enqueued({ runAt: { after: new Date(inAMinute - 5_000), before: new Date(inAMinute) } })
          .map((j) => j.id),
      ).toEqual(['2']);
      expect(app.helper.enqueued({ runAt: { after: at, before: at } }).map((j) => j.id)).toEqual([
        '1',
      ]);
      expect(
        app.helper.enqueued({ runAt: { before: new Date(Date.now() + 1) } }).map((j) => j.id),
      ).toEqual(['3']);
    });

    it('returns snapshots: changing one does not change the store', async () => {
      await enqueueSome();
      const [job] = app.helper.enqueued();
      (job as { state: string }).state = 'completed';
      (job.payload as { text: string }).text = 'changed';
      expect(app.helper.enqueued()[0].state).toBe('available');
    });
  });

  describe('expectEnqueued / expectNotEnqueued', () => {
    it('expectEnqueued returns the matching jobs', async () => {
      await enqueueSome();
      const [job] = app.helper.expectEnqueued(NoteJob, {
        payload: { text: 'bye' },
        accountId: 'acc-2',
      });
      expect(job.id).toBe('2');
      expect(job.payload.text).toBe('bye'); // typed from the job class
    });

    it('a failed expectEnqueued lists what was enqueued instead', async () => {
      await enqueueSome();
      const message = catchMessage(() =>
        app.helper.expectEnqueued(NoteJob, { payload: { text: 'hello' }, accountId: 'acc-2' }),
      );
      expect(message.split('\n')).toEqual([
        'Expected NoteJob with {"payload":{"text":"hello"},"accountId":"acc-2"} to have been enqueued, but no captured job matches.',
        'Enqueued jobs (3):',
        '  #1 note (NoteJob)  account: acc-1  queue: mail  state: available  payload: {"text":"hello","n":1}',
        '  #2 note (NoteJob)  account: acc-2  queue: default  state: available  payload: {"text":"bye","n":2}',
        expect.stringMatching(
          /^ {2}#3 report \(ReportJob\) {2}account: \(global\) {2}queue: reports {2}state: available {2}runAt: \S+Z {2}payload: \{"day":"mon"\}$/,
        ),
      ]);
    });

    it('a failed expectEnqueued says when nothing was enqueued, and prints asymmetric matchers', () => {
      expect(catchMessage(() => app.helper.expectEnqueued(NoteJob))).toBe(
        'Expected NoteJob to have been enqueued, but no captured job matches.\nNo jobs were enqueued.',
      );
      expect(
        catchMessage(() =>
          app.helper.expectEnqueued(NoteJob, { payload: { text: expect.any(String) } }),
        ),
      ).toContain('Expected NoteJob with {"payload":{"text":"<Any<String>>"}} to have been');
    });

    it('expectNotEnqueued passes when nothing matches, else names the matches and lists all', async () => {
      await enqueueSome();
      app.helper.expectNotEnqueued(NoteJob, { accountId: 'acc-3' });
      app.helper.expectNotEnqueued(ChainJob);
      const message = catchMessage(() => app.helper.expectNotEnqueued(NoteJob));
      expect(message).toMatch(
        /^Expected NoteJob not to have been enqueued, but 2 captured jobs match \(#1, #2\)\.\nEnqueued jobs \(3\):\n {2}#1 note/,
      );
      expect(message).toContain('payload: {"text":"bye","n":2}');
      expect(message).toContain('#3 report (ReportJob)');
    });
  });

  describe('performEnqueued', () => {
    it('performs available jobs in FIFO order, each in its captured account, ignoring run time', async () => {
      await enqueueSome();
      const summary = await app.helper.performEnqueued();
      expect(summary.performed.map((j) => [j.id, j.state])).toEqual([
        ['1', 'completed'],
        ['2', 'completed'],
        ['3', 'completed'],
      ]);
      expect(summary.failed).toEqual([]);
      expect(performed).toEqual([
        { job: 'note', text: 'hello', clsAccount: 'acc-1', attempt: 1 },
        { job: 'note', text: 'bye', clsAccount: 'acc-2', attempt: 1 },
      ]);
      expect(app.helper.enqueued({ job: NoteJob })[0]).toMatchObject({
        state: 'completed',
        attempts: 1,
        result: 'noted hello',
      });
      // Nothing left to do: a second call performs nothing.
      expect((await app.helper.performEnqueued()).performed).toEqual([]);
    });

    it('performs only the given classes, or all but the excepted ones', async () => {
      await enqueueSome();
      const onlyReports = await app.helper.performEnqueued({ only: ReportJob });
      expect(onlyReports.performed.map((j) => j.id)).toEqual(['3']);
      expect(performed).toEqual([]);

      await app.queue.performLater(ReportJob, { day: 'tue' });
      const exceptReports = await app.helper.performEnqueued({ except: [ReportJob, ChainJob] });
      expect(exceptReports.performed.map((j) => j.id)).toEqual(['1', '2']);
      expect(app.helper.enqueued({ state: 'available' }).map((j) => j.id)).toEqual(['4']);
    });

    it('performs the jobs performed jobs enqueue, which inherit the account', async () => {
      await app.inAccount('acc-5', () => app.queue.performLater(ChainJob, { depth: 1 }));
      const summary = await app.helper.performEnqueued();
      expect(summary.performed.map((j) => `${j.name}:${j.accountId}`)).toEqual([
        'chain:acc-5',
        'note:acc-5',
        'chain:acc-5',
        'note:acc-5',
      ]);
      expect(performed.map((p) => [p.job, p.text, p.clsAccount])).toEqual([
        ['chain', undefined, 'acc-5'],
        ['note', 'from chain 1', 'acc-5'],
        ['chain', undefined, 'acc-5'],
        ['note', 'from chain 0', 'acc-5'],
      ]);
    });

    it('leaves the enqueued jobs of excluded classes captured', async () => {
      await app.inAccount('acc-5', () => app.queue.performLater(ChainJob, { depth: 3 }));
      await app.helper.performEnqueued({ only: ChainJob });
      expect(app.helper.enqueued({ job: ChainJob, state: 'completed' })).toHaveLength(4);
      expect(
        app.helper.enqueued({ job: NoteJob, state: 'available', accountId: 'acc-5' }),
      ).toHaveLength(4);
    });

    it('throws past maxJobs, for jobs that enqueue jobs endlessly', async () => {
      await app.queue.performLater(ForeverJob, {});
      const error = await app.helper.performEnqueued({ maxJobs: 5 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobsError);
      expect((error as Error).message).toBe(
        'performEnqueued: performed 5 jobs and more are still enqueued (next: #6 forever); a job may be ' +
          'enqueueing jobs endlessly. Pass a higher maxJobs if this is expected.',
      );
      expect(app.helper.enqueued({ state: 'completed' })).toHaveLength(5);
    });

    it('defaults maxJobs to 100', async () => {
      await app.queue.performLater(ForeverJob, {});
      await expect(app.helper.performEnqueued()).rejects.toThrow('performed 100 jobs');
    });

    it('reports failures without stopping the others or retrying', async () => {
      await app.inAccount('acc-1', () =>
        app.queue.performAllLater(NoteJob, [
          { payload: { text: 'boom' } },
          { payload: { text: 'fine' } },
        ]),
      );
      const summary = await app.helper.performEnqueued();
      expect(summary.performed.map((j) => j.state)).toEqual(['failed', 'completed']);
      expect(summary.failed).toEqual([
        { job: expect.objectContaining({ id: '1', state: 'failed' }), error: new Error('boom') },
      ]);
      expect(app.helper.enqueued()[0]).toMatchObject({ attempts: 1, error: new Error('boom') });
    });

    it('a snoozed job goes back to available, later, and is not performed again by the call', async () => {
      await app.inAccount('acc-1', () => app.queue.performLater(NoteJob, { text: 'snooze' }));
      const summary = await app.helper.performEnqueued();
      expect(summary.performed).toHaveLength(1);
      const [job] = app.helper.enqueued();
      expect(job).toMatchObject({ state: 'available', attempts: 0 });
      expect(job.scheduledAt.getTime()).toBeGreaterThan(Date.now() + 50_000);
    });

    it('re-validates a stored payload without a rules fingerprint as the worker does', async () => {
      await app.inAccount('acc-1', () => app.queue.performLater(NoteJob, { text: 'v' }));
      // A test tampering with the store is the only way to get a bad stored payload here; a row with
      // no fingerprint stands for one enqueued before fingerprints (or under other rules).
      const { row } = app.moduleRef.get(InMemoryJobStore).all()[0];
      expect(row.payload_rules).toMatch(/^[\w-]{16}$/);
      row.payload = { text: 1 };
      row.payload_rules = null;
      const summary = await app.helper.performEnqueued();
      expect(summary.failed[0].error.name).toBe('InvalidPayloadError');
    });

    it('performs a payload stored under the same rules as an instance of its class', async () => {
      const seen: unknown[] = [];
      const spy = jest.spyOn(NoteJob.prototype, 'perform').mockImplementation((p) => {
        seen.push(p);
        return undefined as never;
      });
      const validate = jest.spyOn(classValidator, 'validate');
      try {
        await app.inAccount('acc-1', () => app.queue.performLater(NoteJob, { text: 'v' }));
        expect(validate).toHaveBeenCalledTimes(1); // at enqueue
        await app.helper.performEnqueued();
        expect(validate).toHaveBeenCalledTimes(1); // not again at perform
      } finally {
        spy.mockRestore();
        validate.mockRestore();
      }
      expect(seen).toHaveLength(1);
      expect(seen[0]).toBeInstanceOf(NotePayload);
      expect(seen[0]).toEqual(Object.assign(new NotePayload(), { text: 'v' }));
    });
  });

  it('clear() forgets every job; ids keep increasing', async () => {
    await enqueueSome();
    app.helper.clear();
    expect(app.helper.enqueued()).toEqual([]);
    expect(await app.queue.performLater(ReportJob, { day: 'x' })).toBe('4');
  });
});

function catchMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected a throw');
}
