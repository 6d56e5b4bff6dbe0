import { RUN_AT_MAX_MS, RUN_AT_MIN_MS } from './value-limits.constants';
import { dateTime, describeValue } from './value-description.util';

/**
 * Why a `runAt` (or any date the library writes as JSON into a `timestamptz`) is refused, or `undefined`:
 * it must be a valid Date from 1970-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z
 * (`RUN_AT_MIN_MS`..`RUN_AT_MAX_MS`, where the reasons are). Year 10000 and year 0 reached PostgreSQL as
 * ISO text it refuses, and came back as `EnqueueFailedError`. A Date from another realm is accepted
 * (checked by its internal slot, not `instanceof`); a number or an ISO string is not: pass a Date.
 */
export function checkRunAt(value: unknown): string | undefined {
  const time = dateTime(value);
  if (time !== undefined && time >= RUN_AT_MIN_MS && time <= RUN_AT_MAX_MS) return undefined;
  return (
    `must be a valid Date from ${new Date(RUN_AT_MIN_MS).toISOString()} to ` +
    `${new Date(RUN_AT_MAX_MS).toISOString()}, got ${describeValue(value)}.`
  );
}
