/**
 * The abort of one attempt: what an `AbortController` does for it, except that its `AbortSignal` is made
 * only when something asks for it (`ctx.signal`, a `timeoutMs`, an observer). Most handlers never look at
 * their signal, and Node makes a signal (an `EventTarget`) for far more than the rest of a no-op
 * attempt's bookkeeping costs; the controller alone is cheap only because it makes its signal lazily too,
 * on first read. `aborted` and `reason` answer without making one, and a signal made after the abort is
 * already aborted with the same reason.
 */
export class LazyAbort {
  private controller: AbortController | undefined;
  private abortedWith: { reason: unknown } | undefined;

  /** True once `abort` was called. */
  get aborted(): boolean {
    return this.abortedWith !== undefined;
  }

  /** What `abort` was called with (`undefined` before). */
  get reason(): unknown {
    return this.abortedWith?.reason;
  }

  /** The attempt's `AbortSignal`, made on first read. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.abortedWith) this.controller.abort(this.abortedWith.reason);
    }
    return this.controller.signal;
  }

  /** Aborts the attempt (its signal, now or when it is made); later calls change nothing. */
  abort(reason: unknown): void {
    if (this.abortedWith) return;
    this.abortedWith = { reason };
    this.controller?.abort(reason);
  }
}

/** How an attempt is told to stop: the worker's `LazyAbort`, or a plain signal (`performNow`, tests). */
export type AttemptSignal = AbortSignal | LazyAbort;

/** The `AbortSignal` of an attempt (made now for a `LazyAbort` that has none yet). */
export function signalOf(signal: AttemptSignal): AbortSignal {
  return signal instanceof LazyAbort ? signal.signal : signal;
}
