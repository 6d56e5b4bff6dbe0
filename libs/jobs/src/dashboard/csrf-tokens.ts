import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Signed double-submit CSRF tokens, with no session store. A random nonce lives in an HttpOnly,
 * SameSite=Strict cookie of the dashboard's path; every form posts `nonce.HMAC(secret, nonce)`. A POST is
 * accepted only if its token is the one for the cookie's nonce: another site can neither read the cookie
 * nor, knowing no secret, make a token for a nonce it managed to plant.
 */
export class CsrfTokens {
  constructor(private readonly secret: string) {}

  /** A new nonce for the cookie. */
  newNonce(): string {
    return randomBytes(18).toString('base64url');
  }

  /** The token forms carry for `nonce`. */
  tokenFor(nonce: string): string {
    return `${nonce}.${createHmac('sha256', this.secret).update(nonce).digest('base64url')}`;
  }

  /** Whether `token` (from the form) belongs to `nonce` (from the cookie); constant-time. */
  verify(nonce: string | undefined, token: unknown): boolean {
    if (!nonce || typeof token !== 'string') return false;
    const expected = Buffer.from(this.tokenFor(nonce));
    const given = Buffer.from(token);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}
