import {
  ForeignAccountError,
  InvalidAccountIdError,
  InvalidArgumentError,
  JobsError,
} from '../errors';
import { createJobsTestingApp, JobsTestingApp } from './jobs-testing.fixture-spec';
import { JobFlowControl } from '../queue/flow-control.service';

/** The message of the in-memory store, which has no worker to pause: the checks before it passed. */
const needsReal = (operation: string) =>
  `${operation} needs the real JobsModule (PostgreSQL): JobsTestingModule keeps jobs in memory and ` +
  `does not implement it. Test this code against JobsModule.forRoot() with a database instead.`;

describe('JobFlowControl (checks before the store; JobsTestingModule refuses the rest)', () => {
  let app: JobsTestingApp;
  let flow: JobFlowControl;

  beforeEach(async () => {
    app = await createJobsTestingApp({ mode: 'capture' });
    flow = app.moduleRef.get(JobFlowControl);
  });

  afterEach(async () => {
    await app.moduleRef.close();
  });

  it.each([
    ['pauseQueue', (f: JobFlowControl) => f.pauseQueue('mailers')],
    ['resumeQueue', (f: JobFlowControl) => f.resumeQueue('mailers')],
    ['pauseAccount', (f: JobFlowControl) => f.pauseAccount('acme')],
    ['resumeAccount', (f: JobFlowControl) => f.resumeAccount(42)],
    ['listPaused', (f: JobFlowControl) => f.listPaused()],
  ])(
    '%s is injectable under JobsTestingModule and rejects pointing at JobsModule',
    async (name, call) => {
      const error = await call(flow).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobsError);
      expect((error as Error).message).toBe(needsReal(name));
    },
  );

  it.each(['', ' mailers', '*', 'a\nb', 42])('refuses the queue name %p', async (queue) => {
    const error = await flow.pauseQueue(queue as string).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toContain('Invalid argument "queue" of pauseQueue()');
  });

  it.each([undefined, null, '', ' acme', 1.5, { id: 1 }])('refuses the account %p', async (id) => {
    const error = await flow.resumeAccount(id as string).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidAccountIdError);
    expect((error as Error).message).toContain('resumeAccount(accountId)');
  });

  it("inside an account's context, refuses to pause or resume another account", async () => {
    for (const call of [
      (f: JobFlowControl) => f.pauseAccount('B'),
      (f: JobFlowControl) => f.resumeAccount('B'),
    ]) {
      const error = await app.inAccount('A', () => call(flow)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ForeignAccountError);
      expect((error as Error).message).toMatch(/\("B"\) was called inside account "A"'s context/);
    }
    // Its own account passes the check (and reaches the store).
    const own = await app.inAccount('A', () => flow.pauseAccount('A')).catch((e: unknown) => e);
    expect((own as Error).message).toBe(needsReal('pauseAccount'));
  });
});
