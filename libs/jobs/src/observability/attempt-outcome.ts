import type { JobErrorRecord } from '../interfaces';

/**
 * How an attempt ended, as the worker records it: the shape of the worker's `JobTransition`, restated
 * here so that observability depends on no worker file (the worker passes its transitions as they are).
 */
export type AttemptOutcome =
  | { kind: 'complete'; result: string | null }
  | { kind: 'retry'; error: JobErrorRecord; delayMs: number }
  | { kind: 'fail'; error: JobErrorRecord }
  | { kind: 'snooze'; delayMs: number }
  | { kind: 'cancel' };

/** The outcome's name in metrics, spans and log lines. */
export type OutcomeName = 'completed' | 'retrying' | 'failed' | 'snoozed' | 'cancelled';

const NAMES: Record<AttemptOutcome['kind'], OutcomeName> = {
  complete: 'completed',
  retry: 'retrying',
  fail: 'failed',
  snooze: 'snoozed',
  cancel: 'cancelled',
};

/** `complete` → `completed`, and so on. */
export function outcomeName(outcome: AttemptOutcome): OutcomeName {
  return NAMES[outcome.kind];
}
