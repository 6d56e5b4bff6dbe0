import { CsrfTokens } from './csrf-tokens';

describe('CsrfTokens', () => {
  const tokens = new CsrfTokens('s'.repeat(32));

  it('accepts the token of the cookie nonce only', () => {
    const nonce = tokens.newNonce();
    expect(tokens.verify(nonce, tokens.tokenFor(nonce))).toBe(true);
    expect(tokens.verify(tokens.newNonce(), tokens.tokenFor(nonce))).toBe(false);
    expect(tokens.verify(undefined, tokens.tokenFor(nonce))).toBe(false);
    expect(tokens.verify(nonce, undefined)).toBe(false);
    expect(tokens.verify(nonce, `${nonce}.forged`)).toBe(false);
  });

  it('refuses a token signed with another secret', () => {
    const nonce = tokens.newNonce();
    expect(tokens.verify(nonce, new CsrfTokens('t'.repeat(32)).tokenFor(nonce))).toBe(false);
  });
});
