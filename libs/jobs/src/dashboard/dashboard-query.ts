import type { JobListFilter, ListedState } from '../persistence/dashboard.repository';
import { toJobId } from '../values';

/** The states the list filters on, in the order the form shows them. */
export const LISTED_STATES: readonly ListedState[] = [
  'scheduled',
  'available',
  'running',
  'completed',
  'failed',
  'cancelled',
];

/** A filter value the dashboard cannot use; answered with 400 and the field's name. */
export class BadFilterError extends Error {
  constructor(
    readonly field: string,
    problem: string,
  ) {
    super(`Filter "${field}" ${problem}`);
  }
}

/** Longest text a filter field takes (names, queues and account ids are short). */
const MAX_TEXT = 200;

function text(source: Record<string, unknown>, field: string): string | undefined {
  const value = source[field];
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw new BadFilterError(field, 'must be given once.');
  const trimmed = value.trim();
  if (trimmed.length > MAX_TEXT) throw new BadFilterError(field, `is longer than ${MAX_TEXT}.`);
  return trimmed === '' ? undefined : trimmed;
}

/** `datetime-local` values are read as UTC (the list shows UTC times). */
function instant(source: Record<string, unknown>, field: string): Date | undefined {
  const value = text(source, field);
  if (value === undefined) return undefined;
  const date = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`);
  if (Number.isNaN(date.getTime()))
    throw new BadFilterError(field, 'must be a date and time such as 2026-12-01T14:00.');
  return date;
}

/**
 * The list filter from a query string or a bulk form's fields. In the scoped mode `accountId` is the
 * current account, whatever the request says.
 */
export function parseFilter(
  source: Record<string, unknown>,
  scopedAccountId: string | undefined,
): JobListFilter {
  const state = text(source, 'state');
  if (state !== undefined && !LISTED_STATES.includes(state as ListedState)) {
    throw new BadFilterError('state', `must be one of ${LISTED_STATES.join(', ')}.`);
  }
  const before = text(source, 'before');
  if (before !== undefined && toJobId(before) === undefined) {
    throw new BadFilterError('before', 'must be a job id (the last id of the previous page).');
  }
  return {
    state: state as ListedState | undefined,
    queue: text(source, 'queue'),
    name: text(source, 'name'),
    accountId: scopedAccountId ?? text(source, 'account'),
    from: instant(source, 'from'),
    to: instant(source, 'to'),
    before,
  };
}

/** The filter as form fields (the names `parseFilter` reads); account only when not scoped. */
export function filterFields(
  filter: JobListFilter,
  scoped = false,
): Record<string, string | undefined> {
  const local = (d: Date | undefined) => d?.toISOString().slice(0, 19);
  return {
    state: filter.state,
    queue: filter.queue,
    name: filter.name,
    account: scoped ? undefined : filter.accountId,
    from: local(filter.from),
    to: local(filter.to),
    before: filter.before,
  };
}

/** The cursor of a job page's list of children (`children_before`, the last id shown), if any. */
export function parseChildrenCursor(source: Record<string, unknown>): string | undefined {
  const before = text(source, 'children_before');
  if (before !== undefined && toJobId(before) === undefined) {
    throw new BadFilterError('children_before', 'must be a job id (the last child shown).');
  }
  return before;
}
