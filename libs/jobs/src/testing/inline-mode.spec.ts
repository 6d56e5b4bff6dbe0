import { ClsService } from 'nestjs-cls';
import { AccountUnavailableError, MissingTenantError } from '../errors';
import {
  ACCOUNT_KEY,
  ChainJob,
  createJobsTestingApp,
  JobsTestingApp,
  NoteJob,
  performed,
  ReportJob,
} from './jobs-testing.fixture-spec';

/** Inline mode: an enqueue performs the job at once, in the enqueuer's account, like Rails' inline adapter. */
describe('JobsTestingModule inline mode', () => {
  let app: JobsTestingApp;

  beforeEach(async () => {
    app = await createJobsTestingApp({
      mode: 'inline',
      tenant: { clsKey: ACCOUNT_KEY, resolver: { resolve: (id: string) => id !== 'closed' } },
    });
  });

  afterEach(() => app.moduleRef.close());

  it("performs the job before performLater returns, in the enqueuer's account", async () => {
    const cls = app.moduleRef.get(ClsService);
    const id = await app.inAccount('acc-1', async () => {
      const jobId = await app.queue.performLater(NoteJob, { text: 'now' });
      // The job ran in a context of its own; the caller's is untouched.
      expect(cls.get(ACCOUNT_KEY)).toBe('acc-1');
      return jobId;
    });
    expect(performed).toEqual([{ job: 'note', text: 'now', clsAccount: 'acc-1', attempt: 1 }]);
    expect(app.helper.enqueued()).toMatchObject([
      { id, state: 'completed', accountId: 'acc-1', attempts: 1, result: 'noted now' },
    ]);
  });

  it("rethrows the job's error to the caller and records the job as failed", async () => {
    await expect(
      app.inAccount('acc-1', () => app.queue.performLater(NoteJob, { text: 'boom' })),
    ).rejects.toThrow(new Error('boom'));
    expect(app.helper.enqueued()).toMatchObject([{ state: 'failed', error: new Error('boom') }]);
  });

  it('applies the tenant resolver: a job of an unavailable account fails', async () => {
    await expect(
      app.queue.performLater(NoteJob, { text: 'x' }, { accountId: 'closed' }),
    ).rejects.toBeInstanceOf(AccountUnavailableError);
    expect(performed).toEqual([]);
  });

  it('performs nested enqueues inline too, depth first, in the inherited account', async () => {
    await app.inAccount('acc-2', () => app.queue.performLater(ChainJob, { depth: 1 }));
    expect(performed.map((p) => [p.job, p.text, p.clsAccount])).toEqual([
      ['chain', undefined, 'acc-2'],
      ['note', 'from chain 1', 'acc-2'],
      ['chain', undefined, 'acc-2'],
      ['note', 'from chain 0', 'acc-2'],
    ]);
    expect(app.helper.enqueued({ accountId: 'acc-2', state: 'completed' })).toHaveLength(4);
  });

  it('performs every job of a bulk enqueue, then throws the first error', async () => {
    await expect(
      app.inAccount('acc-1', () =>
        app.queue.performAllLater(NoteJob, [
          { payload: { text: 'a' } },
          { payload: { text: 'boom' } },
          { payload: { text: 'c' } },
        ]),
      ),
    ).rejects.toThrow('boom');
    expect(app.helper.enqueued().map((j) => j.state)).toEqual(['completed', 'failed', 'completed']);
  });

  it('runs delayed jobs at once, and still validates and fails closed before anything runs', async () => {
    await app.queue.performLater(ReportJob, { day: 'later' }, { delayMs: 3_600_000 });
    expect(app.helper.enqueued()).toMatchObject([{ state: 'completed', delayMs: 3_600_000 }]);
    await expect(app.queue.performLater(NoteJob, { text: 'no account' })).rejects.toBeInstanceOf(
      MissingTenantError,
    );
    await expect(
      app.queue.performLater(NoteJob, { text: 7 } as never, { accountId: 'a' }),
    ).rejects.toThrow('Invalid payload for job "note"');
    expect(app.helper.enqueued()).toHaveLength(1);
  });

  it('leaves a snoozed job available without throwing', async () => {
    await app.inAccount('acc-1', () => app.queue.performLater(NoteJob, { text: 'snooze' }));
    expect(app.helper.enqueued()).toMatchObject([{ state: 'available', attempts: 0 }]);
  });
});
