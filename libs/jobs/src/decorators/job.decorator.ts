import { applyDecorators, Injectable, SetMetadata } from '@nestjs/common';
import { JOB_METADATA } from '../jobs.constants';
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
  return applyDecorators(Injectable(), SetMetadata(JOB_METADATA, options));
}
