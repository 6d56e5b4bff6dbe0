import { JobsError } from './jobs.error';

/**
 * Throw it from `perform` to fail the job at once, without retries (e.g. the record it was about is gone
 * and no retry can help). Jobs can also list such error classes in `@Job({ discardOn })`.
 */
export class DiscardJobError extends JobsError {}
