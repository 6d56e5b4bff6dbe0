import { Injectable, ScopeOptions, SetMetadata } from '@nestjs/common';
import { SCOPE_OPTIONS_METADATA } from '@nestjs/common/constants';
import { JOB_METADATA } from '../jobs.internal-constants';
import type { JobOptions } from '../interfaces';

/**
 * Declares a provider class as a job handler. The class is an ordinary singleton provider (constructor
 * injection works); list it in a module's `providers`. It must implement `JobHandler<P>`.
 *
 * @example
 * @Job({ name: 'orders.confirm', payload: ConfirmOrderPayload, maxAttempts: 5 })
 * export class ConfirmOrderJob implements JobHandler<ConfirmOrderPayload> { … }
 */
export function Job(options: JobOptions): ClassDecorator {
  return (target) => {
    // Keep scope options an `@Injectable({ scope })` below this decorator already set, so a
    // request-scoped job is refused at startup instead of silently turned into a singleton.
    const scope = Reflect.getMetadata(SCOPE_OPTIONS_METADATA, target) as ScopeOptions | undefined;
    Injectable(scope)(target);
    SetMetadata(JOB_METADATA, options)(target);
  };
}
