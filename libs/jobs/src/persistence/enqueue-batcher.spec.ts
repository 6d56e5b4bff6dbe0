import { EnqueueBatcher, EnqueueBatcherLimits } from './enqueue-batcher';
import type { NewJob } from './job-row';
import type { InsertedJob } from './job-store';

function job(text: string, uniqueKey: string | null = null): NewJob {
  return {
    name: 'note',
    queue: 'default',
    priority: 0,
    payloadJson: JSON.stringify({ text }),
    accountId: null,
    maxAttempts: 3,
    runAt: null,
    delayMs: null,
    uniqueKey,
  };
}

const textOf = (j: NewJob) => (JSON.parse(j.payloadJson) as { text: string }).text;

/** A PostgreSQL refusal of a row's values (a trigger's exception). */
const refused = Object.assign(new Error('refused by a trigger'), { code: 'P0001' });
/** The connection broke mid-statement: whether it committed is unknown. */
const connectionLost = Object.assign(new Error('Connection terminated unexpectedly'), {
  code: '08006',
});

/**
 * The insert statement as PostgreSQL runs it: rows in order, ids from a sequence, a key already held
 * (or earlier in the same statement) skipped. Each statement waits until `release()` unless `auto`;
 * a statement with a job whose text is in `poison` fails as a whole with `failWith`.
 */
class FakeTable {
  readonly statements: NewJob[][] = [];
  readonly committed: Array<{ id: string; text: string }> = [];
  readonly held = new Set<string>();
  poison = new Set<string>();
  failWith: Error = refused;
  auto = true;
  private lastId = 0;
  private readonly gates: Array<() => void> = [];

  /** Per statement: whether the batcher sent it alone (nothing else in flight or waiting). */
  readonly alone: boolean[] = [];

  readonly write = async (jobs: readonly NewJob[], alone: boolean): Promise<InsertedJob[]> => {
    this.statements.push([...jobs]);
    this.alone.push(alone);
    if (!this.auto) await new Promise<void>((resolve) => this.gates.push(resolve));
    if (jobs.some((j) => this.poison.has(textOf(j)))) throw this.failWith;
    const rows: InsertedJob[] = [];
    for (const j of jobs) {
      if (j.uniqueKey !== null && this.held.has(j.uniqueKey)) continue;
      if (j.uniqueKey !== null) this.held.add(j.uniqueKey);
      const id = String(++this.lastId);
      this.committed.push({ id, text: textOf(j) });
      rows.push({ id, unique_key: j.uniqueKey });
    }
    return rows;
  };

  /** Lets the oldest waiting statement run. */
  release(): void {
    this.gates.shift()?.();
  }

  get waiting(): number {
    return this.gates.length;
  }

  sizes(): number[] {
    return this.statements.map((s) => s.length);
  }
}

function batcherOver(table: FakeTable, limits: Partial<EnqueueBatcherLimits> = {}) {
  return new EnqueueBatcher(
    table.write,
    { maxInFlight: 1, maxRows: 1_000, ...limits },
    () => new Error('closed'),
  );
}

/** Lets every pending promise callback run (the fake's statements settle in microtasks). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('EnqueueBatcher', () => {
  it('sends the first call at once when idle, without a timer', async () => {
    jest.useFakeTimers();
    try {
      const table = new FakeTable();
      const batcher = batcherOver(table);
      const done = batcher.insert([job('a')]);
      expect(table.statements).toHaveLength(1); // sent synchronously, not on a later tick
      expect(jest.getTimerCount()).toBe(0);
      await expect(done).resolves.toEqual([{ id: '1', unique_key: null }]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('sends the calls that waited behind a statement as one, each resolving with its own rows', async () => {
    const table = new FakeTable();
    table.auto = false;
    const batcher = batcherOver(table);
    const first = batcher.insert([job('a')]);
    const rest = [
      batcher.insert([job('b')]),
      batcher.insert([job('c'), job('d')]),
      batcher.insert([job('e')]),
    ];
    expect(table.sizes()).toEqual([1]);
    table.release();
    await settle();
    expect(table.statements.map((s) => s.map(textOf))).toEqual([['a'], ['b', 'c', 'd', 'e']]);
    // Each went with nothing else in flight or waiting: "alone" (it notifies workers itself).
    expect(table.alone).toEqual([true, true]);
    table.release();
    expect(await first).toEqual([{ id: '1', unique_key: null }]);
    expect(await Promise.all(rest)).toEqual([
      [{ id: '2', unique_key: null }],
      [
        { id: '3', unique_key: null },
        { id: '4', unique_key: null },
      ],
      [{ id: '5', unique_key: null }],
    ]);
  });

  it('sends the calls of one turn together while a statement is out, up to maxInFlight', async () => {
    const table = new FakeTable();
    table.auto = false;
    const batcher = batcherOver(table, { maxInFlight: 2 });
    const calls = ['a', 'b', 'c', 'd'].map((t) => batcher.insert([job(t)]));
    expect(table.sizes()).toEqual([1]); // 'a' at once; b, c, d at the end of this turn
    await settle();
    expect(table.statements.map((s) => s.map(textOf))).toEqual([['a'], ['b', 'c', 'd']]);
    expect(table.alone).toEqual([true, false]); // b, c, d went beside a
    expect(batcher.busy).toBe(2);
    calls.push(batcher.insert([job('e')]), batcher.insert([job('f')]));
    await settle();
    expect(table.sizes()).toEqual([1, 3]); // no room: e and f wait for a statement to return
    table.release();
    await settle();
    expect(table.statements[2].map(textOf)).toEqual(['e', 'f']);
    table.release();
    table.release();
    expect((await Promise.all(calls)).map((rows) => rows.length)).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('bounds a batch by maxRows, in arrival order, and sends a larger call alone and whole', async () => {
    const table = new FakeTable();
    table.auto = false;
    const batcher = batcherOver(table, { maxRows: 3 });
    const calls = [
      batcher.insert([job('a')]),
      batcher.insert([job('b')]),
      batcher.insert([job('c')]),
      batcher.insert([job('d'), job('e')]),
      batcher.insert([job('f'), job('g'), job('h'), job('i')]),
      batcher.insert([job('j')]),
    ];
    for (let n = 0; n < 5; n++) {
      table.release();
      await settle();
    }
    await Promise.all(calls);
    expect(table.statements.map((s) => s.map(textOf).join(''))).toEqual([
      'a',
      'bc',
      'de',
      'fghi',
      'j',
    ]);
  });

  it('sends a unique key once per statement and gives its row to the first call that has it', async () => {
    const table = new FakeTable();
    table.auto = false;
    table.held.add('held');
    const batcher = batcherOver(table);
    const first = batcher.insert([job('first')]);
    const a = batcher.insert([job('a', 'k')]);
    const b = batcher.insert([job('b'), job('b-dup', 'k')]);
    const c = batcher.insert([job('c', 'held'), job('c2')]);
    const d = batcher.insert([job('d', 'k2'), job('d-dup', 'k2')]);
    table.release();
    await settle();
    expect(table.statements[1].map(textOf)).toEqual(['a', 'b', 'c', 'c2', 'd']);
    table.release();
    await first;
    expect(await a).toEqual([{ id: '2', unique_key: 'k' }]);
    expect(await b).toEqual([{ id: '3', unique_key: null }]); // its `k` is a's: it looks the holder up
    expect(await c).toEqual([{ id: '4', unique_key: null }]); // `held` is held: no row for it
    expect(await d).toEqual([{ id: '5', unique_key: 'k2' }]);
  });

  it('fails only the call whose row PostgreSQL refuses, writing every other call once', async () => {
    const table = new FakeTable();
    table.auto = false;
    table.poison.add('bad');
    const batcher = batcherOver(table);
    const first = batcher.insert([job('first')]);
    const texts = ['a', 'b', 'c', 'bad', 'd', 'e', 'f'];
    const calls = texts.map((t) => batcher.insert([job(t)]).catch((e: unknown) => e));
    table.release();
    table.auto = true;
    await first;
    const results = await Promise.all(calls);
    expect(results[3]).toBe(refused);
    results
      .filter((_, i) => i !== 3)
      .forEach((rows) => expect(rows).toEqual([expect.objectContaining({ unique_key: null })]));
    expect(table.committed.map((r) => r.text).sort()).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
      'f',
      'first',
    ]);
  });

  it('rejects every call of a statement whose connection broke, and sends none of them again', async () => {
    const table = new FakeTable();
    table.auto = false;
    const batcher = batcherOver(table);
    const first = batcher.insert([job('first')]).catch((e: unknown) => e);
    const calls = ['a', 'b', 'c'].map((t) => batcher.insert([job(t)]).catch((e: unknown) => e));
    table.poison = new Set(['first', 'a']);
    table.failWith = connectionLost;
    table.release();
    await settle();
    table.release();
    expect(await first).toBe(connectionLost);
    expect(await Promise.all(calls)).toEqual([connectionLost, connectionLost, connectionLost]);
    expect(table.statements).toHaveLength(2);
    expect(table.committed).toEqual([]);
  });

  it('writes every waiting call before close resolves, then refuses new ones', async () => {
    const table = new FakeTable();
    table.auto = false;
    const batcher = batcherOver(table);
    const calls = ['a', 'b', 'c'].map((t) => batcher.insert([job(t)]));
    let closed = false;
    const closing = batcher.close().then(() => (closed = true));
    await expect(batcher.insert([job('late')])).rejects.toThrow('closed');
    table.release();
    await settle();
    expect(closed).toBe(false);
    table.release();
    await closing;
    expect((await Promise.all(calls)).flat()).toHaveLength(3);
    expect(table.committed.map((r) => r.text)).toEqual(['a', 'b', 'c']);
    await expect(batcherOver(table).close()).resolves.toBeUndefined(); // idle: at once
  });
});
