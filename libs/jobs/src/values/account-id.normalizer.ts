import { AccountIdSource, InvalidAccountIdError } from '../errors';
import { NAME_MAX_LENGTH } from './value-limits.constants';
import { checkStorableText } from './storable-text.check';
import { describeValue } from './value-description.util';

/**
 * The one rule that turns whatever the app put in CLS (or passed as `accountId`) into the `account_id`
 * stored with a job and compared by tenant-scoped operations:
 *
 * - a string is used exactly as given when it is non-blank, has no surrounding whitespace (`' 42'` and
 *   `'42'` would otherwise be two tenants that look alike in every log; trim where you set it), is storable
 *   (no U+0000, no lone surrogate) and is at most 255 characters (`NAME_MAX_LENGTH`: it is btree-indexed);
 * - a safe integer becomes its decimal string (`42` → `'42'`), and so does a bigint (`42n` → `'42'`): an
 *   id read from a numeric column is the same tenant as its string form;
 * - `undefined` and `null` mean "no account" and are returned as they are (failing closed is the caller's
 *   business: `MissingTenantError` for a tenant-scoped job);
 * - anything else throws `InvalidAccountIdError`, naming the source and the fix: objects (`{ id: 1 }` and
 *   `{ id: 2 }` both became `[object Object]`, merging tenants), arrays, NaN, ±Infinity, fractions (their
 *   decimal form is not stable: `0.1 + 0.2`), booleans, symbols, functions, and blank strings (an empty
 *   `x-account-id` header is a bad request, never "no account", which operations would read as "all
 *   accounts").
 */
export function normalizeAccountId(
  value: unknown,
  source: AccountIdSource,
  jobName?: string,
): string | null | undefined {
  if (value === undefined || value === null) return value;
  const fail = (problem: string): never => {
    throw new InvalidAccountIdError(source, problem, jobName);
  };
  switch (typeof value) {
    case 'string': {
      if (value.trim() === '') return fail(`got a blank string (${describeValue(value)}).`);
      if (value.trim() !== value) {
        return fail(`got ${describeValue(value)}, which has surrounding whitespace.`);
      }
      const problem = checkStorableText(value, { maxLength: NAME_MAX_LENGTH });
      return problem === undefined ? value : fail(`it ${problem}`);
    }
    case 'number':
      return Number.isSafeInteger(value)
        ? String(value)
        : fail(`got ${describeValue(value)}, which is not a safe integer.`);
    case 'bigint': {
      const text = String(value);
      return text.length <= NAME_MAX_LENGTH ? text : fail('got a bigint of over 255 digits.');
    }
    default:
      return fail(`got ${describeValue(value)}.`);
  }
}
