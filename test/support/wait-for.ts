/**
 * `waitFor`: the suites' one way to wait for a condition (instead of sleeping). Real timers are captured at
 * load, so a test that switches to fake timers does not freeze the polling.
 */
import { inspect } from 'node:util';

export interface WaitForOptions {
  /** Give up after this long. Default 10 000 ms. */
  timeoutMs?: number;
  /** Pause between attempts. Default 20 ms. */
  intervalMs?: number;
  /** What is being waited for; included in the timeout error. */
  message?: string;
}

type Truthy<T> = Exclude<T, false | 0 | 0n | '' | null | undefined>;

// Captured at load so that jest.useFakeTimers() in a test does not freeze polling.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/**
 * Polls `fn` until it returns (or resolves to) a truthy value, and returns that value. Errors
 * thrown by `fn` count as "not yet". After `timeoutMs` it rejects with an error naming `message`
 * and the last value or error seen (the error is also the `cause`). A call to `fn` that hangs
 * does not extend the timeout. Use instead of sleeps:
 *
 *   const job = await waitFor(() => repo.findOneBy({ id, status: 'done' }), { message: 'job done' });
 */
export async function waitFor<T>(
  fn: () => Promise<T> | T,
  { timeoutMs = 10_000, intervalMs = 20, message }: WaitForOptions = {},
): Promise<Truthy<T>> {
  const deadline = Date.now() + timeoutMs;
  let attempts = 0;
  let last: { value: unknown } | { error: unknown } | undefined;
  let hung = false;
  for (;;) {
    attempts++;
    const remaining = deadline - Date.now();
    hung = false;
    try {
      const result = await withTimeout(Promise.resolve().then(fn), Math.max(remaining, 0));
      if (!result.done) {
        hung = true; // the deadline has passed while waiting; the check below ends the loop
      } else if (result.value) {
        return result.value as Truthy<T>;
      } else {
        last = { value: result.value };
      }
    } catch (error) {
      last = { error };
    }
    const left = deadline - Date.now();
    if (left <= 0) break;
    await new Promise((r) => realSetTimeout(r, Math.min(intervalMs, left)));
  }
  const what = message ? `: ${message}` : '';
  const seen = [
    hung ? 'the last call to fn did not settle in time' : '',
    last === undefined
      ? ''
      : 'error' in last
        ? `last error: ${show(last.error)}`
        : `last value: ${show(last.value)}`,
  ]
    .filter(Boolean)
    .join('; ');
  throw new Error(`waitFor timed out after ${timeoutMs}ms (${attempts} attempts)${what}; ${seen}`, {
    cause: last && 'error' in last ? last.error : undefined,
  });
}

/** Resolves `{ done: false }` if the promise does not settle within `ms`. */
async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
): Promise<{ done: true; value: T } | { done: false }> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise.then((value) => ({ done: true as const, value })),
      new Promise<{ done: false }>((r) => {
        timer = realSetTimeout(() => r({ done: false }), ms);
      }),
    ]);
  } finally {
    realClearTimeout(timer);
  }
}

function show(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  const text = inspect(value, { depth: 3, breakLength: Infinity });
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}
