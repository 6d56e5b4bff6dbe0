/** What a pause applies to: every job of a queue, or every job of an account (in any queue). */
export type PauseKind = 'queue' | 'account';

/** One row of `JobFlowControl.listPaused()`. */
export interface PausedEntry {
  kind: PauseKind;
  /** The queue name (`kind: 'queue'`) or the account id (`kind: 'account'`). */
  key: string;
  /** When it was paused (the database's clock). */
  pausedAt: Date;
}
