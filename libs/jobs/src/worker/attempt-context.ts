import type { LoggerService } from '@nestjs/common';
import type { JobContext } from '../interfaces';
import type { JobAttempt } from '../persistence/job-attempt';
import { type AttemptSignal, signalOf } from './lazy-abort';

/**
 * The `ctx` a handler gets. A class, not an object literal: its `signal` is a getter (the attempt's
 * `AbortSignal` is made on first read, see `LazyAbort`), and an object literal with a getter is built
 * through V8's slow path, measured at about 40 times the cost of this class per job. The getter lives on
 * the prototype, so `{ ...ctx }` does not copy `signal` (read it as `ctx.signal`, or destructure it).
 */
export class AttemptContext implements JobContext {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly accountId: string | null;

  constructor(
    job: JobAttempt,
    private readonly attemptSignal: AttemptSignal,
    readonly logger: LoggerService,
    readonly snooze: (delayMs: number) => never,
    readonly progress: JobContext['progress'],
  ) {
    this.id = job.id;
    this.name = job.name;
    this.queue = job.queue;
    this.attempt = job.attempt;
    this.maxAttempts = job.maxAttempts;
    this.accountId = job.accountId;
  }

  get signal(): AbortSignal {
    return signalOf(this.attemptSignal);
  }
}
