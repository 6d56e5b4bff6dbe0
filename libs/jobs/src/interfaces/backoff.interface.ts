/** How long to wait before retry number `attempt` (1-based: the attempt that just failed). */
export type BackoffFunction = (attempt: number, error: Error) => number;

/**
 * Retry delay policy. `exponential`: base·2^(attempt-1); `polynomial`: base·attempt^4 + 15 s (Sidekiq's
 * curve); `linear`: base·attempt; `fixed`: base. `jitter` spreads each delay by ±jitter·delay.
 */
export interface BackoffOptions {
  /** Default `'exponential'`. */
  type?: 'exponential' | 'polynomial' | 'linear' | 'fixed' | BackoffFunction;
  /** Base delay in ms. Default `1000`. */
  baseMs?: number;
  /** Upper bound of any delay in ms. Default `3_600_000` (1 hour). */
  maxMs?: number;
  /** Fraction of random spread, 0–1. Default `0.1`. */
  jitter?: number;
}
