import type { BackoffOptions } from '../interfaces';

/**
 * Delay in ms before the retry that follows failed attempt `attempt` (1-based). Jitter spreads retries of
 * jobs that failed together (a dependency outage) so they do not all hammer it again at the same instant.
 */
export function backoffDelay(
  policy: Required<BackoffOptions>,
  attempt: number,
  error: Error,
  random: () => number = Math.random,
): number {
  const { type, baseMs, maxMs, jitter } = policy;
  let delay: number;
  if (typeof type === 'function') delay = type(attempt, error);
  else if (type === 'exponential') delay = baseMs * 2 ** (attempt - 1);
  else if (type === 'polynomial') delay = baseMs * attempt ** 4 + 15_000;
  else if (type === 'linear') delay = baseMs * attempt;
  else delay = baseMs;
  if (!Number.isFinite(delay) || delay < 0) delay = maxMs;
  const spread = delay * jitter * (random() * 2 - 1);
  return Math.round(Math.min(maxMs, Math.max(0, delay + spread)));
}
