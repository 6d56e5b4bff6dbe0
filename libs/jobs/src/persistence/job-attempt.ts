/**
 * The part of a claimed `jobs` row that one attempt needs. The claim statement names its columns after
 * these fields, so claimed rows are used as they arrive, without mapping.
 */
export interface JobAttempt {
  id: string;
  name: string;
  queue: string;
  payload: unknown;
  accountId: string | null;
  /** This attempt's number (1-based); counted at claim. */
  attempt: number;
  maxAttempts: number;
}
