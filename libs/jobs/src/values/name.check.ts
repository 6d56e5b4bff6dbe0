import { NAME_MAX_LENGTH, UNIQUE_KEY_MAX_LENGTH } from './value-limits.constants';
import { checkStorableText } from './storable-text.check';
import { describeValue } from './value-description.util';

/**
 * What a name is for. `jobName` (`@Job({ name })`), `queue` (`@Job({ queue })`, the `queue` option,
 * `defaults.queue`, each of `worker.queues` except the `'*'` wildcard), `scheduleKey` (a recurring
 * schedule's key, a cron name given to `oncePerTick`), `uniqueKey` (the `uniqueKey` option).
 */
export type NameKind = 'jobName' | 'queue' | 'scheduleKey' | 'uniqueKey';

/** C0 and C1 control characters (U+0000–U+001F, U+007F–U+009F). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/**
 * Why a name is refused, or `undefined`. Every name must be a non-empty string that PostgreSQL stores
 * exactly (no U+0000, no lone surrogate: see `checkStorableText`) and that fits its btree index: 255
 * characters (`NAME_MAX_LENGTH`), 512 for a unique key (`UNIQUE_KEY_MAX_LENGTH`).
 *
 * Job names, queues and schedule keys are identifiers the developer writes: they appear in every log
 * line, metric and dashboard, so they also must not hold control characters (a newline forges log
 * lines) or surrounding whitespace (`'mail '` would be a second queue that looks like `'mail'`), and a
 * queue must not be `'*'`, which `worker.queues` reads as "every queue". No narrower charset is imposed:
 * `orders.process`, `invoices:send-pending` and `Rechnungen` are all fine. Unique keys are often built
 * from data, so only storability and length apply to them.
 */
export function checkName(value: unknown, kind: NameKind): string | undefined {
  if (typeof value !== 'string' || value === '') {
    return `must be a non-empty string, got ${describeValue(value)}.`;
  }
  const maxLength = kind === 'uniqueKey' ? UNIQUE_KEY_MAX_LENGTH : NAME_MAX_LENGTH;
  const problem = checkStorableText(value, { maxLength });
  if (problem !== undefined) return problem;
  if (kind === 'uniqueKey') return undefined;
  const control = CONTROL.exec(value);
  if (control) {
    return (
      `must not contain control characters (U+${control[0].charCodeAt(0).toString(16).padStart(4, '0')} ` +
      `at index ${control.index}), got ${describeValue(value)}.`
    );
  }
  if (value.trim() !== value) {
    return `must not start or end with whitespace, got ${describeValue(value)}.`;
  }
  if (kind === 'queue' && value === '*') {
    return `must not be "*", which worker.queues reads as "every queue"; choose a name.`;
  }
  return undefined;
}
