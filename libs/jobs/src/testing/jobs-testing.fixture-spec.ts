/*
 * Jobs and a testing-module factory shared by the testing entry point's specs. Named `*.fixture-spec.ts`
 * so that the library build (which excludes `*spec.ts`) leaves it out and jest (`*.spec.ts`) does not run it.
 */
import type { Provider } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { IsInt, IsOptional, IsString, Min } from 'class-validator';
import { ClsModule, ClsService } from 'nestjs-cls';
import { Job } from '../decorators/job.decorator';
import type { JobContext, JobHandler } from '../interfaces';
import { JobQueueService } from '../queue/job-queue.service';
import { JobsTestHelper } from './jobs-test.helper';
import { JobsTestingModule } from './jobs-testing.module';
import type { JobsTestingOptions } from './jobs-testing.options';

export const ACCOUNT_KEY = 'accountId';

/** What the fixture jobs did, with the account they found in CLS (not just `ctx.accountId`). */
export const performed: Array<{
  job: string;
  text?: string;
  clsAccount: unknown;
  attempt: number;
}> = [];

export class NotePayload {
  @IsString() text: string;
  @IsOptional() @IsInt() n?: number;
}

/** Records itself; `text: 'boom'` throws, `text: 'snooze'` snoozes. */
@Job({ name: 'note', payload: NotePayload })
export class NoteJob implements JobHandler<NotePayload, string> {
  constructor(private readonly cls: ClsService) {}
  perform(payload: NotePayload, ctx: JobContext): string {
    performed.push({
      job: 'note',
      text: payload.text,
      clsAccount: this.cls.get(ACCOUNT_KEY),
      attempt: ctx.attempt,
    });
    if (payload.text === 'boom') throw new Error('boom');
    if (payload.text === 'snooze') return ctx.snooze(60_000);
    return `noted ${payload.text}`;
  }
}

export class ChainPayload {
  @IsInt() @Min(0) depth: number;
}

/** Enqueues a note, and another link while `depth > 0`, without passing an account. */
@Job({ name: 'chain', payload: ChainPayload })
export class ChainJob implements JobHandler<ChainPayload> {
  constructor(
    private readonly jobs: JobQueueService,
    private readonly cls: ClsService,
  ) {}
  async perform({ depth }: ChainPayload): Promise<void> {
    performed.push({ job: 'chain', clsAccount: this.cls.get(ACCOUNT_KEY), attempt: 1 });
    await this.jobs.performLater(NoteJob, { text: `from chain ${depth}` });
    if (depth > 0) await this.jobs.performLater(ChainJob, { depth: depth - 1 });
  }
}

/** A global job that enqueues itself again, endlessly. */
@Job({ name: 'forever', tenant: 'none' })
export class ForeverJob implements JobHandler {
  constructor(private readonly jobs: JobQueueService) {}
  async perform(): Promise<void> {
    await this.jobs.performLater(ForeverJob, {});
  }
}

/** A global job on its own queue. */
@Job({ name: 'report', tenant: 'none', queue: 'reports', priority: 5 })
export class ReportJob implements JobHandler<{ day: string }> {
  perform(): void {}
}

/** A global job that runs until its signal is aborted, then fails with the abort reason. */
@Job({ name: 'wait', tenant: 'none' })
export class WaitJob implements JobHandler {
  perform(_payload: unknown, ctx: JobContext): Promise<void> {
    return new Promise((_resolve, reject) =>
      ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error)),
    );
  }
}

export interface JobsTestingApp {
  moduleRef: TestingModule;
  helper: JobsTestHelper;
  queue: JobQueueService;
  /** Runs `fn` as a request of `accountId` would (the account in CLS). */
  inAccount<T>(accountId: string, fn: () => Promise<T>): Promise<T>;
}

/** A testing module with the fixture jobs, tenancy on `ACCOUNT_KEY`, in the given mode. */
export async function createJobsTestingApp(
  options: JobsTestingOptions = {},
  providers: Provider[] = [],
): Promise<JobsTestingApp> {
  performed.length = 0;
  const moduleRef = await Test.createTestingModule({
    imports: [
      ClsModule.forRoot({ global: true }),
      JobsTestingModule.forRoot({ tenant: { clsKey: ACCOUNT_KEY }, ...options }),
    ],
    providers: [NoteJob, ChainJob, ForeverJob, ReportJob, WaitJob, ...providers],
  }).compile();
  await moduleRef.init();
  const cls = moduleRef.get(ClsService);
  return {
    moduleRef,
    helper: moduleRef.get(JobsTestHelper),
    queue: moduleRef.get(JobQueueService),
    inAccount: (accountId, fn) =>
      cls.run(() => {
        cls.set(ACCOUNT_KEY, accountId);
        return fn();
      }),
  };
}
