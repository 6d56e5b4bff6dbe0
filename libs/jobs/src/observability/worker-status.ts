/** Injection token of this process's `WorkerStatus` (the `JobWorker`). */
export const WORKER_STATUS = Symbol('WORKER_STATUS');

/** What the health indicator reads of the worker (implemented by `JobWorker`). */
export interface WorkerStatus {
  /** The worker's id (its row in the workers table). */
  readonly id: string;
  /** True while the worker claims jobs. */
  readonly isRunning: boolean;
  /** True while its LISTEN connection is up; false while it reconnects (polling goes on meanwhile). */
  readonly listening: boolean;
}
