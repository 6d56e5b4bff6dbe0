import { IsString } from 'class-validator';
import type { JobDefinition } from '../discovery/job-definition';
import type { JobRegistry } from '../discovery/job.registry';
import { InvalidPayloadError } from '../errors';
import type { JobClass } from '../interfaces';
import { resolveJobsOptions } from '../jobs-options';
import type { NewJob } from '../persistence/job-row';
import type { InsertedJob, InsertOptions, JobStore } from '../persistence/job-store';
import type { TenantContext } from '../tenancy/tenant-context';
import { EnqueuePipeline } from './enqueue-pipeline';

class NotePayload {
  @IsString() text: string;
}

const definition = {
  name: 'note',
  queue: 'default',
  priority: 0,
  maxAttempts: 3,
  payloadType: NotePayload,
  tenant: 'none',
} as unknown as JobDefinition;
const NoteJob = class {} as unknown as JobClass<{ text: string }>;

/**
 * A `JobStore` that writes nothing: `insert` hands out ids and skips keys listed in `held` (as the partial
 * unique index would), `findByUniqueKeys` answers from `holders`.
 */
class FakeStore implements Partial<JobStore> {
  readonly inserts: Array<{ jobs: readonly NewJob[]; options: InsertOptions }> = [];
  held = new Set<string>();
  holders: InsertedJob[] = [];
  /** Called as `findByUniqueKeys` starts (to let a holder finish just then). */
  onLookup = (): void => undefined;
  private lastId = 0;

  async insert(jobs: readonly NewJob[], options: InsertOptions = {}): Promise<InsertedJob[]> {
    this.inserts.push({ jobs, options });
    await options.validation?.();
    return jobs
      .filter((job) => !job.uniqueKey || !this.held.has(job.uniqueKey))
      .map((job) => ({ id: String(++this.lastId), unique_key: job.uniqueKey }));
  }

  async findByUniqueKeys(keys: string[]): Promise<InsertedJob[]> {
    this.onLookup();
    return this.holders.filter((h) => keys.includes(h.unique_key as string));
  }
}

function pipelineOver(store: FakeStore): EnqueuePipeline {
  return new EnqueuePipeline(
    { forType: () => definition } as unknown as JobRegistry,
    { captureFor: () => null, currentJobId: () => null } as unknown as TenantContext,
    store as unknown as JobStore,
    resolveJobsOptions({}),
  );
}

describe('EnqueuePipeline', () => {
  it('returns the holder’s id for a deduplicated key, in item order', async () => {
    const store = new FakeStore();
    store.held.add('k');
    store.holders = [{ id: '77', unique_key: 'k' }];
    const ids = await pipelineOver(store).enqueue(
      NoteJob,
      [
        { payload: { text: 'a' } },
        { payload: { text: 'b' }, uniqueKey: 'k' },
        { payload: { text: 'c' } },
      ],
      undefined,
    );
    expect(ids).toEqual(['1', '77', '2']);
  });

  it('inserts again a job whose key was freed between its insert and the look-up', async () => {
    const store = new FakeStore();
    store.held.add('k'); // refused by the insert, but the holder finished before the look-up
    store.onLookup = () => store.held.clear();
    const ids = await pipelineOver(store).enqueue(
      NoteJob,
      [{ payload: { text: 'a' }, uniqueKey: 'k' }],
      undefined,
    );
    expect(ids).toEqual(['1']);
    expect(store.inserts.map((i) => i.jobs.map((j) => j.uniqueKey))).toEqual([['k'], ['k']]);
  });

  it('hands a large bulk’s payload validation to the store, to run while it inserts', async () => {
    const store = new FakeStore();
    const items = Array.from({ length: 100 }, (_, i) => ({ payload: { text: `t${i}` } }));
    expect(await pipelineOver(store).enqueue(NoteJob, items, undefined)).toHaveLength(100);
    expect(store.inserts).toHaveLength(1);
    expect(store.inserts[0].options.validation).toEqual(expect.any(Function));

    items[42] = { payload: { text: 42 } as never };
    const error = await pipelineOver(store)
      .enqueue(NoteJob, items, undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect((error as InvalidPayloadError).fields.map((f) => f.field)).toEqual(['[42].text']);
  });

  it('validates a small or transactional enqueue before the store sees it', async () => {
    const store = new FakeStore();
    const error = await pipelineOver(store)
      .enqueue(NoteJob, [{ payload: { text: 1 } as never }], undefined)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidPayloadError);
    expect(store.inserts).toEqual([]);
    expect(await pipelineOver(store).enqueue(NoteJob, [], undefined)).toEqual([]);
    expect(store.inserts).toEqual([]);
  });
});
