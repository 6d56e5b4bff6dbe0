import { Injectable } from '@nestjs/common';
import type { HandlerInvoker, InvokedJob, JobContext } from '../interfaces';

/**
 * The single place every handler call goes through, worker and `performNow` alike: the hook for tracing,
 * metrics or logging around each attempt (cf. @nestjs/bullmq's `ProcessorDecoratorService`). It runs
 * inside the job's tenant CLS context, after the payload was validated and under the job's timeout.
 *
 * Replace it with a subclass through `JobsModule.forRoot({ invoker: TracingInvoker })` (resolved from the
 * module's injector, so it may inject other providers), or in tests with
 * `Test.createTestingModule(...).overrideProvider(JobInvoker).useClass(...)`. Call `super.invoke(...)` (or
 * `definition.instance.perform(payload, ctx)`) to run the job; whatever it returns or throws is the
 * attempt's outcome.
 */
@Injectable()
export class JobInvoker implements HandlerInvoker {
  /** Calls the job's `perform` with its validated payload and context. Default: exactly that. */
  invoke(definition: InvokedJob, payload: unknown, ctx: JobContext): Promise<unknown> {
    return Promise.resolve(definition.instance.perform(payload, ctx));
  }
}
