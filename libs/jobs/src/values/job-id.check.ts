import { JOB_ID_MAX } from './value-limits.constants';
import { describeValue } from './value-description.util';

/** Canonical decimal: no sign, no leading zero, no space, 1 to 19 digits. */
const DECIMAL = /^[1-9][0-9]{0,18}$/;

/**
 * The canonical form of a job id (`'42'`), or `undefined` when the value cannot name a job. Ids are
 * PostgreSQL `bigint identity` values, 1..2^63 − 1, which the library hands out as decimal strings; a
 * safe integer or a bigint in range is accepted too (JavaScript callers, ids parsed from a URL). Anything
 * else (`'abc'`, `'0'`, `'-1'`, `'007'`, `' 7'`, `'1e3'`, `9223372036854775808`, NaN, an object) would make
 * the `bigint` cast fail with a raw `DatabaseError`, so it is answered before any statement.
 */
export function toJobId(value: unknown): string | undefined {
  if (typeof value === 'string') {
    if (!DECIMAL.test(value)) return undefined;
    return value.length < 19 || BigInt(value) <= JOB_ID_MAX ? value : undefined;
  }
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 1 ? String(value) : undefined;
  }
  if (typeof value === 'bigint')
    return value >= 1n && value <= JOB_ID_MAX ? String(value) : undefined;
  return undefined;
}

/**
 * Whether a value can name a job. For the operations where a bad id is simply "not found" (`find` → null,
 * `cancel` / `retry` / `discard` → false): no job has that id, which is the truth.
 */
export function isJobId(value: unknown): boolean {
  return toJobId(value) !== undefined;
}

/**
 * Why a value cannot name a job, or `undefined`. For the places where a bad id is the caller's mistake
 * and deserves a typed error (`InvalidArgumentError`): a page cursor (`listFailed({ after })`), which only
 * ever comes from a previous page's `nextCursor`.
 */
export function checkJobId(value: unknown): string | undefined {
  return isJobId(value)
    ? undefined
    : `must be a job id (a decimal string from 1 to ${JOB_ID_MAX}, as the library returns them), ` +
        `got ${describeValue(value)}.`;
}
