import { DiscardJobError } from '../errors';
import { isWellFormed } from './storable-text.check';
import { toStorableErrorText } from './error-text.normalizer';

class PaymentDeclined extends Error {}

describe('toStorableErrorText', () => {
  it('keeps a plain error as it is, with the class name of a subclass that left name alone', () => {
    const error = new PaymentDeclined('card declined');
    expect(toStorableErrorText(error)).toEqual({
      name: 'PaymentDeclined',
      message: 'card declined',
      stack: error.stack,
    });
    expect(toStorableErrorText(new DiscardJobError('gone')).name).toBe('DiscardJobError');
    expect(toStorableErrorText(new TypeError('x')).name).toBe('TypeError');
  });

  it('makes the SyntaxError of JSON.parse on U+0000 storable', () => {
    let error: unknown;
    try {
      JSON.parse('"\u0000"');
    } catch (e) {
      error = e;
    }
    const text = toStorableErrorText(error);
    expect(text.name).toBe('SyntaxError');
    for (const t of [text.message, text.stack ?? '']) {
      expect(t.includes('\u0000')).toBe(false);
      expect(isWellFormed(t)).toBe(true);
    }
  });

  it('replaces lone surrogates and caps a 10 MB message', () => {
    const text = toStorableErrorText(new Error(`\ud800${'x'.repeat(10_000_000)}`));
    expect(text.message.startsWith('\ufffdxxx')).toBe(true);
    expect(Buffer.byteLength(text.message)).toBeLessThanOrEqual(8_192);
    expect(text.message).toMatch(/… \[truncated \d+ bytes\]$/);
    const capped = toStorableErrorText(new Error('y'.repeat(100)), { message: 50 }).message;
    // Within the cap, and close to it (the marker was sized for the largest possible count).
    expect(Buffer.byteLength(capped)).toBeLessThanOrEqual(50);
    expect(Buffer.byteLength(capped)).toBeGreaterThanOrEqual(48);
  });

  it('survives getters that throw', () => {
    const error = new Error('real');
    Object.defineProperty(error, 'message', {
      get: () => {
        throw new Error('nope');
      },
    });
    Object.defineProperty(error, 'name', {
      get: () => {
        throw new Error('nope');
      },
    });
    Object.defineProperty(error, 'stack', {
      get: () => {
        throw new Error('nope');
      },
    });
    expect(toStorableErrorText(error)).toEqual({
      name: 'Error',
      message: '(its message could not be read: the getter threw)',
    });
  });

  it('survives a thrown Proxy, revoked or with throwing traps', () => {
    const { proxy, revoke } = Proxy.revocable(new Error('x'), {});
    revoke();
    expect(toStorableErrorText(proxy)).toEqual({
      name: 'Error',
      message: 'Non-error thrown: an unreadable object (reading it threw)',
    });
    const hostile = new Proxy(new Error('x'), {
      get: () => {
        throw new Error('trap');
      },
    });
    expect(toStorableErrorText(hostile).message).toBe(
      '(its message could not be read: the getter threw)',
    );
  });

  it('wraps non-errors the way toError does', () => {
    expect(toStorableErrorText('plain')).toEqual({ name: 'Error', message: 'plain' });
    expect(toStorableErrorText({ code: 1 })).toEqual({
      name: 'Error',
      message: 'Non-error thrown: {"code":1}',
    });
    expect(toStorableErrorText(null).message).toBe('Non-error thrown: null');
    expect(toStorableErrorText(undefined).message).toBe('Non-error thrown: undefined');
    expect(toStorableErrorText(10n).message).toBe('Non-error thrown: 10n (a bigint)');
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(toStorableErrorText(cyclic).message).toBe('Non-error thrown: an object');
    expect(toStorableErrorText('a\u0000b').message).toBe('a\ufffdb');
  });
});
