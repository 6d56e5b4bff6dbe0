import type { Type } from '@nestjs/common';
import type { JobHandler } from '../interfaces';
import type { BackoffOptions } from '../interfaces/backoff.interface';
import type { FlowKeyFunction } from '../interfaces/flow-limits.interface';

/** A job's own concurrency limit, checked (`@Job({ concurrency })`); `group` defaults to the name. */
export interface DefinedConcurrency {
  group: string;
  limit: number;
  key: FlowKeyFunction | undefined;
}

/** A job's own rate limit, checked (`@Job({ rate })`); `group` defaults to the name. */
export interface DefinedRate extends DefinedConcurrency {
  periodMs: number;
}
import type { PayloadRules } from '../payload/payload-rules';

/** A discovered job with every option resolved against the module defaults. */
export interface JobDefinition {
  name: string;
  queue: string;
  priority: number;
  maxAttempts: number;
  timeoutMs: number | undefined;
  backoff: Required<BackoffOptions>;
  payloadType: Type<object> | undefined;
  /**
   * The payload class's rules, fingerprinted once at discovery: recorded with each row at enqueue, and a
   * row whose fingerprint matches is not validated again at perform. Absent without a payload class.
   */
  payloadRules?: PayloadRules;
  tenant: 'required' | 'none';
  retryOn: Array<abstract new (...args: never[]) => Error> | undefined;
  discardOn: Array<abstract new (...args: never[]) => Error>;
  /** `@Job({ concurrency })`; `undefined`: none of its own. */
  concurrency?: DefinedConcurrency;
  /** `@Job({ rate })`; `undefined`: none of its own. */
  rate?: DefinedRate;
  /** The decorated class (the key `performLater` is called with). */
  type: Type<unknown>;
  /** The provider instance that performs it. */
  instance: JobHandler;
}
