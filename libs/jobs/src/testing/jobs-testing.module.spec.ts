import { Test } from '@nestjs/testing';
import { ClsModule } from 'nestjs-cls';
import { JobRegistry } from '../discovery/job.registry';
import { InvalidJobsOptionsError } from '../errors';
import { JobQueueService } from '../queue/job-queue.service';
import { JobInvoker } from '../worker/job-invoker';
import { JobRunner } from '../worker/job-runner';
import { createJobsTestingApp, NoteJob, ReportJob } from './jobs-testing.fixture-spec';
import { JobsTestHelper } from './jobs-test.helper';
import { JobsTestingModule } from './jobs-testing.module';

describe('JobsTestingModule', () => {
  it('discovers the app’s @Job providers with the given defaults, and exports the registry', async () => {
    const app = await createJobsTestingApp({ defaults: { queue: 'q', maxAttempts: 3 } });
    const registry = app.moduleRef.get(JobRegistry);
    expect(registry.forType(NoteJob)).toMatchObject({ name: 'note', queue: 'q', maxAttempts: 3 });
    expect(registry.forType(ReportJob)).toMatchObject({ queue: 'reports', maxAttempts: 3 });
    await app.moduleRef.close();
  });

  it('defaults to capture mode', async () => {
    const app = await createJobsTestingApp();
    await app.inAccount('acc-1', () => app.queue.performLater(NoteJob, { text: 'hi' }));
    expect(app.helper.enqueued()).toMatchObject([{ state: 'available' }]);
    await app.moduleRef.close();
  });

  it('validates its options like JobsModule', async () => {
    const compiling = Test.createTestingModule({
      imports: [
        ClsModule.forRoot({ global: true }),
        JobsTestingModule.forRoot({ tenant: { clsKey: '' } }),
      ],
    }).compile();
    await expect(compiling).rejects.toBeInstanceOf(InvalidJobsOptionsError);
  });

  it('is global: a feature module injects the testing queue and helper', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [ClsModule.forRoot({ global: true }), JobsTestingModule.forRoot()],
    }).compile();
    expect(moduleRef.get(JobQueueService, { strict: false })).toBeDefined();
    expect(moduleRef.get(JobsTestHelper, { strict: false })).toBeInstanceOf(JobsTestHelper);
    await moduleRef.close();
  });

  it('lets a test override JobRunner (e.g. a tracing subclass) and performs through it', async () => {
    const seen: string[] = [];
    class TracingRunner extends JobRunner {
      override perform(...args: Parameters<JobRunner['perform']>): Promise<unknown> {
        seen.push(args[0].name);
        return super.perform(...args);
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [ClsModule.forRoot({ global: true }), JobsTestingModule.forRoot()],
      providers: [ReportJob],
    })
      .overrideProvider(JobRunner)
      .useClass(TracingRunner)
      .compile();
    await moduleRef.init();
    await moduleRef.get(JobQueueService).performLater(ReportJob, { day: 'x' });
    await moduleRef.get(JobsTestHelper).performEnqueued();
    expect(seen).toEqual(['report']);
    await moduleRef.close();
  });

  it('provides JobInvoker, so overrideProvider(JobInvoker) wraps every perform, as with JobsModule', async () => {
    const seen: string[] = [];
    class TracingInvoker extends JobInvoker {
      override invoke(...args: Parameters<JobInvoker['invoke']>): Promise<unknown> {
        seen.push(`${args[0].name}:${args[2].attempt}`);
        return super.invoke(...args);
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [ClsModule.forRoot({ global: true }), JobsTestingModule.forRoot()],
      providers: [ReportJob],
    })
      .overrideProvider(JobInvoker)
      .useClass(TracingInvoker)
      .compile();
    await moduleRef.init();
    const queue = moduleRef.get(JobQueueService);
    await queue.performLater(ReportJob, { day: 'x' });
    await moduleRef.get(JobsTestHelper).performEnqueued();
    await queue.performNow(ReportJob, { day: 'y' });
    expect(seen).toEqual(['report:1', 'report:1']);
    await moduleRef.close();
  });
});
