/**
 * The part of a claimed `jobs` row that one attempt needs. The claim statement names its columns after
 * these fields, so claimed rows are used as they arrive, without mapping.
 */
export interface JobAttempt {
  id: string;
  name: string;
  queue: string;
  payload: unknown;
  /** The payload-rule fingerprint recorded at enqueue (`PayloadRules`); `null` for rows from before it. */
  payloadRules?: string | null;
  accountId: string | null;
  /** This attempt's number (1-based); counted at claim. */
  attempt: number;
  maxAttempts: number;
  /** The W3C `traceparent` of the enqueue, when it was traced (observability). */
  traceContext?: string | null;
  /** Milliseconds the job was due before this claim (observability's queue wait). */
  waitMs?: number;
  /**
   * Set (> 0) only on a job a rescue returned unstarted before: its worker died while holding it. Its start
   * is recorded before it performs, so that if it is what kills its process, the next crash counts.
   */
  unstartedRescues?: number;
}
