import { Test } from '@nestjs/testing';
import { ClsModule } from 'nestjs-cls';
import { Job } from '../decorators/job.decorator';
import { InvalidEnqueueOptionsError } from '../errors';
import type { JobHandler } from '../interfaces';
import { JobQueueService } from '../queue/job-queue.service';
import { JobsTestHelper } from './jobs-test.helper';
import { JobsTestingModule } from './jobs-testing.module';

const performed: string[] = [];

@Job({
  name: 'limited.mail',
  tenant: 'none',
  concurrency: { limit: 1, key: (p: { to: string }) => p.to },
  rate: { limit: 10, periodMs: 1_000 },
})
class MailJob implements JobHandler<{ to: string }> {
  perform(p: { to: string }): void {
    performed.push(p.to);
  }
}

/** The in-memory store of `nestjs-tenant-jobs/testing` with limited jobs and the `flow` option. */
describe('JobsTestingModule with concurrency and rate limits', () => {
  async function start() {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ClsModule.forRoot({ global: true }),
        JobsTestingModule.forRoot({
          mode: 'inline',
          flow: {
            accountConcurrency: 2,
            queues: { mailers: { rate: { limit: 1, periodMs: 10 } } },
          },
        }),
      ],
      providers: [MailJob],
    }).compile();
    await moduleRef.init();
    return {
      moduleRef,
      queue: moduleRef.get(JobQueueService),
      helper: moduleRef.get(JobsTestHelper),
    };
  }

  it('accepts the options and performs limited jobs (limits are the database’s: none in memory)', async () => {
    performed.length = 0;
    const { moduleRef, queue } = await start();
    await queue.performAllLater(MailJob, [{ payload: { to: 'a' } }, { payload: { to: 'a' } }]);
    expect(performed).toEqual(['a', 'a']);
    await moduleRef.close();
  });

  it('checks the key function at enqueue like the real module: a bad key is a typed error', async () => {
    const { moduleRef, queue, helper } = await start();
    await expect(queue.performLater(MailJob, { to: '' })).rejects.toThrow(
      InvalidEnqueueOptionsError,
    );
    await expect(queue.performLater(MailJob, { to: '' })).rejects.toThrow(
      'Invalid enqueue option "concurrency.key" for job "limited.mail": must return a non-empty string',
    );
    expect(helper.enqueued()).toEqual([]);
    await moduleRef.close();
  });
});
