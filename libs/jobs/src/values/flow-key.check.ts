import { checkStorableText } from './storable-text.check';
import { describeValue } from './value-description.util';
import { NAME_MAX_LENGTH } from './value-limits.constants';

/**
 * Most UTF-8 bytes of one stored limit key (`jobs.concurrency_key`, `jobs.rate_key`: a prefix, the group
 * or queue, and the key). Both keys sit in one row of `jobs_limited_claim_idx`, whose btree rows must
 * stay under 2,704 bytes; 1,280 each leaves room for the other columns. Only a group name and a key
 * both near their 255 characters of three-byte characters come close.
 */
export const FLOW_KEY_MAX_BYTES = 1_280;

/**
 * Why a limit key function's result (`@Job({ concurrency: { key } })`, `@Job({ rate: { key } })`) is
 * refused, or `undefined`: it must be a non-empty string PostgreSQL stores exactly (no U+0000, no lone
 * surrogate) of at most 255 characters (`NAME_MAX_LENGTH`). Any other character is fine: keys are often
 * built from data (a customer id, an e-mail domain). The problem reads after the field's name.
 */
export function checkFlowKey(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') {
    return `must return a non-empty string, got ${describeValue(value)}.`;
  }
  const problem = checkStorableText(value, { maxLength: NAME_MAX_LENGTH });
  return problem === undefined
    ? undefined
    : `must return a string PostgreSQL stores: it ${problem}`;
}

/**
 * A stored limit key: its parts joined by U+001F (the unit separator). Every part but the last is a
 * checked name (no control characters), so the join is unambiguous whatever the last part holds: group
 * `a` with key `b:c` never meets group `a:b` with key `c`, nor account `x` of one queue another's.
 */
export function flowKey(...parts: string[]): string {
  return parts.join('\u001f');
}
