import type { InvokedJob, JobContext } from '../interfaces';
import { JobInvoker } from './job-invoker';

describe('JobInvoker', () => {
  const ctx = { id: '1' } as JobContext;
  const job = (perform: InvokedJob['instance']['perform']): InvokedJob => ({
    name: 'job',
    queue: 'default',
    type: class Job {},
    instance: { perform },
  });

  it('calls perform with the payload and context, as a promise, sync or async', async () => {
    const seen: unknown[] = [];
    const invoker = new JobInvoker();
    await expect(
      invoker.invoke(
        job((p, c) => (seen.push(p, c), 'sync')),
        { a: 1 },
        ctx,
      ),
    ).resolves.toBe('sync');
    await expect(
      invoker.invoke(
        job(async () => 'async'),
        {},
        ctx,
      ),
    ).resolves.toBe('async');
    expect(seen).toEqual([{ a: 1 }, ctx]);
  });

  it('passes a rejection through untouched', async () => {
    const error = new Error('boom');
    await expect(
      new JobInvoker().invoke(
        job(() => Promise.reject(error)),
        {},
        ctx,
      ),
    ).rejects.toBe(error);
  });

  it('is the hook a subclass overrides to wrap every call', async () => {
    const spans: string[] = [];
    class TracingInvoker extends JobInvoker {
      override async invoke(definition: InvokedJob, payload: unknown, c: JobContext) {
        spans.push(`start ${definition.name}`);
        try {
          return await super.invoke(definition, payload, c);
        } finally {
          spans.push(`end ${definition.name}`);
        }
      }
    }
    await expect(
      new TracingInvoker().invoke(
        job(() => 3),
        {},
        ctx,
      ),
    ).resolves.toBe(3);
    expect(spans).toEqual(['start job', 'end job']);
  });
});
