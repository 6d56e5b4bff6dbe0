import type { Type } from '@nestjs/common';
import type { JobHandler } from '../interfaces';
import type { BackoffOptions } from '../interfaces/backoff.interface';

/** A discovered job with every option resolved against the module defaults. */
export interface JobDefinition {
  name: string;
  queue: string;
  priority: number;
  maxAttempts: number;
  timeoutMs: number | undefined;
  backoff: Required<BackoffOptions>;
  payloadType: Type<object> | undefined;
  tenant: 'required' | 'none';
  retryOn: Array<abstract new (...args: never[]) => Error> | undefined;
  discardOn: Array<abstract new (...args: never[]) => Error>;
  /** The decorated class (the key `performLater` is called with). */
  type: Type<unknown>;
  /** The provider instance that performs it. */
  instance: JobHandler;
}
