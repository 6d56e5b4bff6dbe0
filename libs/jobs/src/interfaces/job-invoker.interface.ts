import type { Type } from '@nestjs/common';
import type { JobContext, JobHandler } from './job-handler.interface';

/** What a `JobInvoker` is told about the job whose handler it calls. */
export interface InvokedJob {
  /** The job's registered name (`@Job({ name })`). */
  readonly name: string;
  /** The queue it belongs to by default. */
  readonly queue: string;
  /** The decorated class. */
  readonly type: Type<unknown>;
  /** The provider instance whose `perform` runs the job. */
  readonly instance: JobHandler;
}

/** The shape of the handler-wrapping hook; extend the exported `JobInvoker` class to implement it. */
export interface HandlerInvoker {
  /** Runs one handler call; its result or rejection is the attempt's outcome. */
  invoke(definition: InvokedJob, payload: unknown, ctx: JobContext): Promise<unknown>;
}
