import { jobsMatchers } from './jest-matchers';
import {
  ChainJob,
  createJobsTestingApp,
  JobsTestingApp,
  NoteJob,
} from './jobs-testing.fixture-spec';

expect.extend(jobsMatchers);

describe('jobsMatchers', () => {
  let app: JobsTestingApp;

  beforeEach(async () => {
    app = await createJobsTestingApp();
    await app.inAccount('acc-1', () => app.queue.performLater(NoteJob, { text: 'hi' }));
  });

  afterEach(() => app.moduleRef.close());

  it('toHaveEnqueued passes for a matching job, .not for none', () => {
    expect(app.helper).toHaveEnqueued(NoteJob);
    expect(app.helper).toHaveEnqueued(NoteJob, { payload: { text: 'hi' }, accountId: 'acc-1' });
    expect(app.helper).not.toHaveEnqueued(NoteJob, { accountId: 'acc-2' });
    expect(app.helper).not.toHaveEnqueued(ChainJob);
  });

  it('a failing toHaveEnqueued prints what was enqueued instead', () => {
    const message = failureOf(() =>
      expect(app.helper).toHaveEnqueued(NoteJob, { accountId: 'acc-2' }),
    );
    expect(message).toContain('expect(jobsHelper).toHaveEnqueued(NoteJob)');
    expect(message).toContain(
      'Expected NoteJob with {"accountId":"acc-2"} to have been enqueued, but no captured job matches.\n' +
        'Enqueued jobs (1):\n' +
        '  #1 note (NoteJob)  account: acc-1  queue: default  state: available  payload: {"text":"hi"}',
    );
  });

  it('a failing .not.toHaveEnqueued names the matching jobs', () => {
    const message = failureOf(() => expect(app.helper).not.toHaveEnqueued(NoteJob));
    expect(message).toContain('expect(jobsHelper).not.toHaveEnqueued(NoteJob)');
    expect(message).toContain(
      'Expected NoteJob not to have been enqueued, but 1 captured job matches (#1).\nEnqueued jobs (1):',
    );
  });

  it('refuses anything but the helper', () => {
    expect(() => expect({}).toHaveEnqueued(NoteJob)).toThrow(
      'toHaveEnqueued expects the JobsTestHelper (moduleRef.get(JobsTestHelper)), got [object Object].',
    );
  });
});

function failureOf(assertion: () => void): string {
  try {
    assertion();
  } catch (error) {
    // jest colours the hint; compare the text.
    return (error as Error).message.replace(/\u001b\[\d+m/g, '');
  }
  throw new Error('expected the assertion to fail');
}
