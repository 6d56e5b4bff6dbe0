import type { Completion } from '../persistence/worker-store';
import { CompletionBatcher } from './completion-batcher';
import { DatabaseBackoff } from './database-backoff';
import { connectionError, FakeWorkerStore, memoryLogger } from './worker-store.fixture-spec';

const W = 'worker-1';
const completion = (id: string, result: string | null = '1'): Completion => ({
  id,
  name: 'job',
  attempt: 1,
  result,
});
const turn = () => new Promise((resolve) => setImmediate(resolve));
async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !condition(); i++) await new Promise((r) => setTimeout(r, 2));
  expect(condition()).toBe(true);
}

function setup() {
  const store = new FakeWorkerStore();
  const logger = memoryLogger();
  const written: number[] = [];
  const batcher = new CompletionBatcher(store, W, new DatabaseBackoff(1, logger), logger, {
    written: () => written.push(store.callsOf('complete').length),
    running: () => true,
  });
  return { store, logger, batcher, written };
}

describe('CompletionBatcher', () => {
  it('writes the completions of one turn in one statement', async () => {
    const { store, batcher, written } = setup();
    store.hold(W, 'a', 'b', 'c');
    for (const id of ['a', 'b', 'c']) batcher.add(completion(id));
    expect(batcher.size).toBe(3);
    await until(() => written.length === 1);
    expect(store.callsOf('complete')).toEqual([
      [[completion('a'), completion('b'), completion('c')], W],
    ]);
    expect([...store.rows.values()].every((r) => r.state === 'completed')).toBe(true);
  });

  it('keeps one batch in flight; the next gathers behind it', async () => {
    const { store, batcher } = setup();
    store.hold(W, 'a', 'b', 'c');
    let finishFirst: () => void = () => undefined;
    store.override.complete = (batch) => {
      return new Promise((resolve) => (finishFirst = () => resolve(batch.length)));
    };
    batcher.add(completion('a'));
    await until(() => store.callsOf('complete').length === 1);
    batcher.add(completion('b'));
    batcher.add(completion('c'));
    await turn();
    await turn();
    expect(store.callsOf('complete')).toHaveLength(1);
    expect(batcher.ids().sort()).toEqual(['a', 'b', 'c']); // in flight and pending: leases kept
    delete store.override.complete;
    finishFirst();
    await until(() => store.callsOf('complete').length === 2);
    expect(store.callsOf('complete')[1][0]).toEqual([completion('b'), completion('c')]);
  });

  it('splits a batch PostgreSQL refuses for its values, so the bad row holds back no other', async () => {
    const { store, batcher, logger } = setup();
    const ids = ['1', '2', '3', 'bad', '5', '6', '7'];
    store.hold(W, ...ids);
    store.unstorable.add('bad');
    for (const id of ids) batcher.add(completion(id));
    await until(() => store.rows.get('bad')!.state !== 'running');
    for (const id of ids.filter((i) => i !== 'bad'))
      expect(store.rows.get(id)!.state).toBe('completed');
    const bad = store.rows.get('bad')!;
    expect(bad.state).toBe('failed');
    expect(JSON.parse(bad.error!)).toMatchObject({
      name: 'ResultNotStorableError',
      message: expect.stringContaining('Job "job" #bad ran to completion'),
    });
    expect(batcher.size).toBe(0);
    expect(batcher.ids()).toEqual([]);
    // Bisected: 7 → 3 + 4 → … → the bad row alone; never the whole batch again.
    const sizes = store.callsOf('complete').map(([batch]) => (batch as Completion[]).length);
    expect(sizes[0]).toBe(7);
    expect(sizes.filter((n) => n === 7)).toHaveLength(1);
    expect(sizes).toContain(1);
    expect(logger.lines.some((l) => l.startsWith('error: Job "job" #bad'))).toBe(true);
  });

  it('keeps a batch that failed for a connection error and writes it after a backoff', async () => {
    const { store, batcher, written } = setup();
    store.hold(W, 'a', 'b');
    store.override.complete = () => {
      delete store.override.complete;
      return Promise.reject(connectionError());
    };
    batcher.add(completion('a'));
    batcher.add(completion('b'));
    await until(() => written.length === 1);
    expect(store.callsOf('complete')).toHaveLength(2); // the failed write, then the same batch again
    expect(store.callsOf('complete')[1]).toEqual(store.callsOf('complete')[0]);
    expect(store.rows.get('a')!.state).toBe('completed');
    expect(store.rows.get('b')!.state).toBe('completed');
  });

  it('counts completions the database fenced out (cancelled, or rescued after a lost lease)', async () => {
    const { store, batcher, logger } = setup();
    store.hold(W, 'a');
    store.rows.set('b', { state: 'cancelled', attempt: 1, lockedBy: null });
    store.rows.set('c', { state: 'running', attempt: 2, lockedBy: 'other' });
    for (const id of ['a', 'b', 'c']) batcher.add(completion(id));
    await until(() => batcher.fencedOut === 2);
    expect(store.rows.get('a')!.state).toBe('completed');
    expect(store.rows.get('b')!.state).toBe('cancelled');
    expect(logger.lines.some((l) => l.includes('2 completion(s) not recorded'))).toBe(true);
  });

  it('on close, waits for the batch in flight and writes the rest once', async () => {
    const { store, batcher } = setup();
    store.hold(W, 'a', 'b');
    batcher.add(completion('a'));
    batcher.add(completion('b'));
    await batcher.close();
    expect(store.rows.get('a')!.state).toBe('completed');
    expect(store.rows.get('b')!.state).toBe('completed');
  });
});
