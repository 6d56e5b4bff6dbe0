import { JOB_EVENT_METADATA, JobEventRegistration } from '../observability/job-event.metadata';
import type { JobEventOf, JobEventType, OnJobEventOptions } from '../observability/job-event.types';

/**
 * Calls the decorated provider method with the event object whenever a job meets one of `types`
 * (see `JobEventType`). Listeners run after the outcome is recorded, in the job's account CLS context,
 * outside the worker's slots: what they return or throw never changes the job, an error is logged, and a
 * call that takes longer than `timeoutMs` is logged and no longer waited for. The provider must be a
 * singleton (class, `useValue` or `useFactory`), in any module.
 *
 * @example
 * @OnJobEvent('failed', { job: SendMailJob })
 * alert(event: JobFailedEvent) { this.pager.page(`mail ${event.id}: ${event.error.message}`); }
 */
export function OnJobEvent<T extends JobEventType>(
  types: T | readonly T[],
  options: OnJobEventOptions = {},
): <F extends (event: JobEventOf<T>) => unknown>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<F>,
) => void {
  const registration: JobEventRegistration = {
    types: typeof types === 'string' ? [types] : [...types],
    options,
  };
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const existing = (Reflect.getMetadata(JOB_EVENT_METADATA, method) ??
      []) as JobEventRegistration[];
    Reflect.defineMetadata(JOB_EVENT_METADATA, [...existing, registration], method);
  };
}
