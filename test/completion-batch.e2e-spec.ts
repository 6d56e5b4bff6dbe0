/*
 * The batched completion statement (issue 16, item 7: drain CPU): one row back with the count instead of
 * a row per job, ids and attempts sent as array literals, and no results array when no job has a result.
 * Checked against the real server: results land on the right rows, a batch without results stores none,
 * and the fence still holds (a wrong attempt or worker changes nothing and is not counted).
 */
import { TestingModule } from '@nestjs/testing';
import { Job, JobHandler, JobQueueService } from 'nestjs-tenant-jobs';
import { WorkerRepository } from 'nestjs-tenant-jobs/persistence/worker.repository';
import { createTestDatabase, TestDatabase } from './support/database';
import { createJobsApp } from './support/jobs-app';

@Job({ name: 'batch.noop', tenant: 'none' })
class NoopJob implements JobHandler<{ n: number }> {
  perform(): void {}
}

describe('completion batch', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let jobs: JobQueueService;
  let store: WorkerRepository;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      providers: [NoopJob],
      jobs: { worker: { enabled: false } },
    });
    jobs = app.get(JobQueueService);
    store = app.get(WorkerRepository);
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  async function claimThree() {
    await jobs.performAllLater(
      NoopJob,
      [1, 2, 3].map((n) => ({ payload: { n } })),
    );
    const claimed = await store.claim({ limit: 3, workerId: 'w1', leaseMs: 60_000 });
    expect(claimed).toHaveLength(3);
    return claimed;
  }

  it('stores each result on its own row and counts only the rows it changed', async () => {
    const [a, b, c] = await claimThree();
    const changed = await store.complete(
      [
        { id: a.id, name: a.name, attempt: a.attempt, result: null },
        { id: b.id, name: b.name, attempt: b.attempt, result: '{"b":"\\"quoted\\" \\\\ back"}' },
        { id: c.id, name: c.name, attempt: c.attempt + 1, result: '7' }, // another attempt: fenced out
      ],
      'w1',
    );
    expect(changed).toBe(2);
    expect(await jobs.find(a.id)).toMatchObject({ state: 'completed', result: null });
    expect(await jobs.find(b.id)).toMatchObject({
      state: 'completed',
      result: { b: '"quoted" \\ back' },
    });
    expect(await jobs.find(c.id)).toMatchObject({ state: 'running', result: null });
    await expect(
      store.complete([{ id: c.id, name: c.name, attempt: c.attempt, result: '7' }], 'w2'),
    ).resolves.toBe(0); // another worker: fenced out
    await expect(
      store.complete([{ id: c.id, name: c.name, attempt: c.attempt, result: '7' }], 'w1'),
    ).resolves.toBe(1);
    expect(await jobs.find(c.id)).toMatchObject({ state: 'completed', result: 7 });
  });

  it('completes a batch in which no job has a result', async () => {
    const claimed = await claimThree();
    const changed = await store.complete(
      claimed.map((j) => ({ id: j.id, name: j.name, attempt: j.attempt, result: null })),
      'w1',
    );
    expect(changed).toBe(3);
    for (const j of claimed) {
      expect(await jobs.find(j.id)).toMatchObject({ state: 'completed', result: null });
    }
  });
});
