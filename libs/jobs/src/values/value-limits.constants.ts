/**
 * What PostgreSQL (and Node) accept, as constants the boundary checks share. Each was verified against
 * PostgreSQL 15 through node-postgres, the way the library sends values; the error it gives otherwise is
 * quoted so a reader can recognise it in a bug report.
 */

/**
 * `integer` (int4) columns: `priority`, `attempts`, `max_attempts`. Outside this range PostgreSQL says
 * `value "2147483648" is out of range for type integer`; a fraction gives `invalid input syntax for type
 * integer: "1.5"` (node-postgres sends numbers as text, so nothing rounds them on the way).
 */
export const INT4_MIN = -2_147_483_648;
/** The largest `integer` (2^31 − 1). */
export const INT4_MAX = 2_147_483_647;

/**
 * Job ids are `bigint identity` values, 1 and up: `9223372036854775808` is `out of range for type bigint`,
 * `abc` or `1e3` is `invalid input syntax for type bigint`. Kept as a bigint: 2^63 − 1 is not a safe
 * JS number.
 */
export const JOB_ID_MAX = 9_223_372_036_854_775_807n;

/**
 * Node's timers hold a signed 32-bit delay: `setTimeout(fn, 2 ** 31)` prints `TimeoutOverflowWarning`
 * and fires after 1 ms (verified on Node 20 and 24). So every option that becomes a timer (`timeoutMs`,
 * intervals, leases, polls) must stay at or below 2^31 − 1 ms, about 24.8 days.
 */
export const TIMER_MAX_MS = 2_147_483_647;

/**
 * The `runAt` range: 1970-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z. PostgreSQL's `timestamptz`
 * goes from 4713 BC to 294276 AD, but dates reach it as JSON ISO text inside the enqueue document, and
 * outside years 0001–9999 `Date#toJSON` writes the extended form (`+010000-01-01T…`, `-000001-…`), which
 * PostgreSQL rejects (`time zone displacement out of range`, `invalid input syntax`); year 0000 is
 * `date/time field value out of range`. Within 1..9999 the lower bound is our choice: a `runAt` only means
 * "not before", so any past date runs now, and a date before the Unix epoch is far more likely a bug
 * (a negative or tiny number passed to `new Date`) than an intent.
 */
export const RUN_AT_MIN_MS = Date.UTC(1970, 0, 1);
/** The last millisecond of year 9999 (see `RUN_AT_MIN_MS`). */
export const RUN_AT_MAX_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

/**
 * The longest delay (and any other duration added to or taken from `now()` in SQL: snoozes, backoff,
 * `purge({ olderThanMs })`, retention ages): 100 years of 365.25 days. `now() + 1e16 * interval
 * '1 millisecond'` fails with `interval out of range`, and a delay that lands after year 9999 breaks the
 * `runAt` range above; 100 years keeps `now() + delay` inside it until the year 9899, and no job waits that
 * long on purpose.
 */
export const DELAY_MAX_MS = 3_155_760_000_000;

/**
 * Job names, queue names, cron/schedule keys and account ids: at most 255 UTF-16 code units (what JS
 * `length` counts), so at most 765 bytes of UTF-8. They are btree-indexed (the claim filters queues, the
 * failed-jobs index starts with `account_id`, the tick guard's primary key starts with the schedule key),
 * and a btree row over 2,704 bytes is refused at insert (`index row size 2712 exceeds btree version 4
 * maximum 2704`); 255 also keeps them readable in logs and messages, where they appear on every line.
 */
export const NAME_MAX_LENGTH = 255;

/**
 * Unique keys: at most 512 UTF-16 code units, so at most 1,536 bytes of UTF-8, under the 2,704-byte btree
 * row limit of `jobs_unique_key_idx` whatever the characters (900 CJK characters, 2,700 bytes, were
 * already refused). Longer than names because keys are often built from data (`export:<account>:<date>`);
 * hash anything longer.
 */
export const UNIQUE_KEY_MAX_LENGTH = 512;

/**
 * How deep a payload may nest. class-transformer and class-validator recurse without a bound and throw a
 * raw `RangeError` (call stack) on deep input, and no real payload is 100 levels deep.
 */
export const JSON_MAX_DEPTH = 100;

/**
 * Default caps, in UTF-8 bytes, of the error texts recorded for a failed attempt (in `last_error` and
 * again in `errors`): enough for any real message and a deep stack, small enough that a 10 MB message
 * cannot bloat every row of a job's history.
 */
export const ERROR_TEXT_MAX_BYTES = { name: 256, message: 8_192, stack: 16_384 } as const;

/** Default cap, in UTF-8 bytes of JSON, of a stored job result: the same as the default `maxPayloadBytes`. */
export const RESULT_MAX_BYTES = 262_144;
