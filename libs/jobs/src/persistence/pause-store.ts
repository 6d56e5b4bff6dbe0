import type { PausedEntry, PauseKind } from '../interfaces';

/**
 * Injection token of the `PauseStore` that `JobFlowControl` writes through: the PostgreSQL repository in
 * `JobsModule`; in `JobsTestingModule`, the in-memory store, which refuses (no worker runs there).
 */
export const PAUSE_STORE = Symbol('PAUSE_STORE');

/** The queues and accounts paused now, as a worker passes them to its claims. */
export interface PausedLists {
  /** Paused queue names. */
  queues: string[];
  /** Paused account ids. */
  accounts: string[];
}

/** Where pauses are kept, seen from `JobFlowControl`. Keys are already checked. */
export interface PauseStore {
  /** `true` when this call paused it, `false` when it was paused already. */
  pause(kind: PauseKind, key: string): Promise<boolean>;
  /** `true` when this call resumed it, `false` when it was not paused. */
  resume(kind: PauseKind, key: string): Promise<boolean>;
  /** Every pause, or with `accountId` the queues' and that account's only. */
  listPaused(accountId: string | null): Promise<PausedEntry[]>;
}
