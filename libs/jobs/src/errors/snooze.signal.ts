/**
 * Thrown by `ctx.snooze(ms)` to end an attempt early and run the job again later without counting a
 * failure. Internal: the runner recognises it; handlers never catch it.
 */
export class SnoozeSignal {
  constructor(readonly delayMs: number) {}
}
