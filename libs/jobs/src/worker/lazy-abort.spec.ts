import { LazyAbort, signalOf } from './lazy-abort';

describe('LazyAbort', () => {
  it('aborts the signal read before the abort, once, with the first reason', () => {
    const abort = new LazyAbort();
    const signal = abort.signal;
    const heard: unknown[] = [];
    signal.addEventListener('abort', () => heard.push(signal.reason));
    expect(abort.aborted).toBe(false);
    abort.abort('first');
    abort.abort('second');
    expect([abort.aborted, abort.reason, signal.aborted, signal.reason]).toEqual([
      true,
      'first',
      true,
      'first',
    ]);
    expect(heard).toEqual(['first']);
    expect(abort.signal).toBe(signal);
  });

  it('gives a signal read after the abort already aborted, with its reason', () => {
    const abort = new LazyAbort();
    const reason = new Error('cancelled');
    abort.abort(reason);
    expect(abort.signal.aborted).toBe(true);
    expect(abort.signal.reason).toBe(reason);
  });

  it('signalOf returns a plain signal as it is', () => {
    const controller = new AbortController();
    expect(signalOf(controller.signal)).toBe(controller.signal);
    const abort = new LazyAbort();
    expect(signalOf(abort)).toBe(abort.signal);
  });
});
