import { isDataError } from './database-errors';
import type { NewJob } from './job-row';
import type { InsertedJob } from './job-store';

/**
 * Writes jobs in one statement (one commit) and returns the rows written, in order (`JobStore.insert`).
 * `alone`: no other insert of this batcher is in flight or waiting (the latency of this one call is what
 * matters, not the throughput of many).
 */
export type InsertJobs = (jobs: readonly NewJob[], alone: boolean) => Promise<InsertedJob[]>;

/** Bounds of an `EnqueueBatcher`. */
export interface EnqueueBatcherLimits {
  /** Statements in flight at once (each holds one pooled connection). At least 1. */
  maxInFlight: number;
  /** Rows per statement: calls are added to a batch while it stays within this; a larger call goes alone. */
  maxRows: number;
}

/** One enqueue call waiting for its rows. */
interface Call {
  readonly jobs: readonly NewJob[];
  resolve(rows: InsertedJob[]): void;
  reject(error: unknown): void;
}

/**
 * Group commit for enqueues outside a caller's transaction: each enqueue is a durable commit, and one
 * commit per call caps concurrent callers at what one connection's commits can do (and pays a
 * statement's fixed cost, in node and in PostgreSQL, per job). Here:
 * - an idle batcher (nothing in flight) sends a call at once: no timer, no delay;
 * - while statements are out and fewer than `maxInFlight`, the calls of one turn of the event loop go
 *   together at the end of that turn (`setImmediate`): the callers a returning statement resolved come
 *   back in the same turn, and go as one statement rather than one each;
 * - with `maxInFlight` statements out, calls wait; when one returns, every call that waited goes out
 *   together as ONE insert (up to `maxRows` rows).
 * So batches grow with the load, the way PostgreSQL's own group commit does, and shrink to single
 * calls when it is quiet.
 *
 * What each caller sees is unchanged:
 * - **Its own rows.** A call resolves only once the statement that carried its rows has committed, with
 *   exactly its rows in its order. Plain rows come back in the order they were inserted (the statement
 *   inserts in document order); a `uniqueKey` appears at most once per statement: only its first job in
 *   the batch is sent, the others get no row and look the holder up, as if they had come a moment later.
 *   A key already held in the table gets no row either (`on conflict do nothing`), as before.
 * - **Its own errors.** Validation happens before a call joins a batch, so a batch fails only when
 *   PostgreSQL refuses it. When PostgreSQL refuses it for its values (`isRefusedRow`: a data exception,
 *   a constraint, a trigger's exception: the statement was rolled back, nothing of it was kept), the
 *   batch is split in halves and each half sent again until the call that carries the bad row is alone:
 *   that call alone fails, every other one is written once. Any other failure (the connection was lost,
 *   the server restarted, a timeout) rejects every call of the batch with that error, as each would have
 *   failed alone: whether a statement whose connection broke committed is unknowable, so it is never sent
 *   again behind the caller's back (the caller sees a retryable error and decides, as before).
 *
 * Batches are taken in arrival order; with several in flight, their commits may land in any order (no
 * caller can tell: each waits for its own). `close` waits until every call accepted so far is written or
 * rejected; calls after it are refused.
 */
export class EnqueueBatcher {
  private waiting: Call[] = [];
  private inFlight = 0;
  private closed = false;
  /** A send of this turn's calls is scheduled (`gather`). */
  private gathering = false;
  private idle: Array<() => void> = [];

  constructor(
    private readonly write: InsertJobs,
    private readonly limits: EnqueueBatcherLimits,
    /** The error a call made after `close` is rejected with. */
    private readonly closedError: () => Error,
  ) {}

  /** Statements being written now. */
  get busy(): number {
    return this.inFlight;
  }

  /** Inserts `jobs` (all of one call: written together or not at all), resolving with their rows. */
  insert(jobs: readonly NewJob[]): Promise<InsertedJob[]> {
    if (this.closed) return Promise.reject(this.closedError());
    return new Promise((resolve, reject) => {
      this.waiting.push({ jobs, resolve, reject });
      if (this.inFlight === 0) this.pump();
      else this.gather();
    });
  }

  /** Refuses new calls and resolves once every accepted one has been written or rejected. */
  close(): Promise<void> {
    this.closed = true;
    if (this.inFlight === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  /**
   * A call came while statements are out but one more may go: send it with every call made in this
   * turn of the event loop (the callers a returning statement just resolved come back together), not
   * alone. Without room, the next statement to return sends what waits.
   */
  private gather(): void {
    if (this.gathering || this.inFlight >= this.limits.maxInFlight) return;
    this.gathering = true;
    setImmediate(() => {
      this.gathering = false;
      this.pump();
    });
  }

  /** Sends what waits while there is room in flight. */
  private pump(): void {
    while (this.inFlight < this.limits.maxInFlight && this.waiting.length > 0) {
      const batch = this.take();
      this.inFlight++;
      void this.send(batch).finally(() => {
        this.inFlight--;
        this.pump();
        if (this.inFlight === 0 && this.waiting.length === 0) {
          for (const resolve of this.idle.splice(0)) resolve();
        }
      });
    }
  }

  /** The next batch: waiting calls in arrival order, while their rows fit in `maxRows` (at least one call). */
  private take(): Call[] {
    let rows = this.waiting[0].jobs.length;
    let count = 1;
    while (count < this.waiting.length) {
      rows += this.waiting[count].jobs.length;
      if (rows > this.limits.maxRows) break;
      count++;
    }
    if (count === this.waiting.length) {
      const batch = this.waiting;
      this.waiting = [];
      return batch;
    }
    return this.waiting.splice(0, count);
  }

  /** Writes one batch and settles its calls; never rejects. */
  private async send(batch: readonly Call[]): Promise<void> {
    const alone = this.inFlight === 1 && this.waiting.length === 0;
    if (batch.length === 1) {
      const [call] = batch;
      try {
        call.resolve(await this.write(call.jobs, alone));
      } catch (error) {
        call.reject(error);
      }
      return;
    }
    const { sent, from } = document(batch);
    let rows: InsertedJob[];
    try {
      rows = await this.write(sent, alone);
    } catch (error) {
      if (!isRefusedRow(error)) {
        for (const call of batch) call.reject(error);
        return;
      }
      // Rolled back as a whole: find the call that carries the bad row, write the others.
      const half = Math.ceil(batch.length / 2);
      await this.send(batch.slice(0, half));
      await this.send(batch.slice(half));
      return;
    }
    deal(batch, sent, from, rows);
  }
}

/**
 * The rows of a batch, in call order, each `uniqueKey` kept only on its first job (so that a returned
 * key names exactly one job), and for each row sent the index in `batch` of the call it came from.
 */
function document(batch: readonly Call[]): { sent: NewJob[]; from: number[] } {
  const sent: NewJob[] = [];
  const from: number[] = [];
  const keys = new Set<string>();
  for (let c = 0; c < batch.length; c++) {
    for (const job of batch[c].jobs) {
      const key = job.uniqueKey;
      if (key !== null) {
        if (keys.has(key)) continue;
        keys.add(key);
      }
      sent.push(job);
      from.push(c);
    }
  }
  return { sent, from };
}

/**
 * Resolves each call with its rows: plain rows in insertion order (the order they were sent), a keyed
 * row to the call whose job was sent with that key; a key already held returned no row, so nobody gets
 * one for it (the pipeline looks the holder up).
 */
function deal(
  batch: readonly Call[],
  sent: readonly NewJob[],
  from: readonly number[],
  rows: readonly InsertedJob[],
): void {
  const results = batch.map((): InsertedJob[] => []);
  const keyed = new Map<string, InsertedJob>();
  const plain: InsertedJob[] = [];
  for (const row of rows) {
    if (row.unique_key === null) plain.push(row);
    else keyed.set(row.unique_key, row);
  }
  if (plain.length !== sent.filter((job) => job.uniqueKey === null).length) {
    // Cannot happen (every plain row is inserted); if it did, no call could be told its own ids.
    const error = new Error(`the insert returned ${rows.length} rows for ${sent.length} jobs`);
    for (const call of batch) call.reject(error);
    return;
  }
  let next = 0;
  for (let i = 0; i < sent.length; i++) {
    const key = sent[i].uniqueKey;
    const row = key === null ? plain[next++] : keyed.get(key);
    if (row) results[from[i]].push(row);
  }
  batch.forEach((call, i) => call.resolve(results[i]));
}

/**
 * PostgreSQL refused the statement for the values of some row, and rolled it back: a data exception or
 * program limit (`isDataError`), an integrity constraint (`23`: a check, a not-null), or an exception
 * raised by a trigger (`P0`). Sending the other rows again is safe (nothing was kept) and useful (they
 * were not the cause).
 */
function isRefusedRow(error: unknown): boolean {
  if (isDataError(error)) return true;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length === 5 && /^(23|P0)/.test(code);
}
