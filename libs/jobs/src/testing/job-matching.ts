import type { JobClass } from '../interfaces/enqueue-options.interface';
import type { CapturedJob, CapturedJobFilter } from './captured-job';

/** A jest asymmetric matcher (`expect.any(String)`), recognised by shape so jest is not needed here. */
interface AsymmetricMatcher {
  asymmetricMatch(actual: unknown): boolean;
  toAsymmetricMatcher?(): string;
}

function isAsymmetricMatcher(value: unknown): value is AsymmetricMatcher {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<AsymmetricMatcher>).asymmetricMatch === 'function'
  );
}

/**
 * Whether `actual` contains `expected`: objects match when every key of `expected` matches (extra keys
 * are fine), arrays element by element with equal lengths, a `Date` the same instant or its ISO string
 * (payloads are stored as JSON), asymmetric matchers by their own rule, anything else by `Object.is`.
 * The same rules as jest's `toMatchObject`, minus jest.
 */
export function isMatch(actual: unknown, expected: unknown): boolean {
  if (isAsymmetricMatcher(expected)) return expected.asymmetricMatch(actual);
  if (expected instanceof Date) {
    return actual instanceof Date
      ? actual.getTime() === expected.getTime()
      : actual === expected.toISOString();
  }
  if (Array.isArray(expected)) {
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((item, i) => isMatch(actual[i], item))
    );
  }
  if (typeof expected === 'object' && expected !== null) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return false;
    return Object.entries(expected).every(([key, value]) =>
      isMatch((actual as Record<string, unknown>)[key], value),
    );
  }
  return Object.is(actual, expected);
}

/** Whether a captured job meets every criterion of `filter`. */
export function matchesFilter(job: CapturedJob, filter: CapturedJobFilter<unknown>): boolean {
  if (filter.job !== undefined && job.job !== filter.job) return false;
  if (filter.payload !== undefined && !isMatch(job.payload, filter.payload)) return false;
  if (filter.accountId !== undefined && !isMatch(job.accountId, filter.accountId)) return false;
  if (filter.queue !== undefined && !isMatch(job.queue, filter.queue)) return false;
  if (filter.state !== undefined && !isMatch(job.state, filter.state)) return false;
  return filter.runAt === undefined || withinRunAt(job.scheduledAt, filter.runAt);
}

function withinRunAt(at: Date, runAt: NonNullable<CapturedJobFilter['runAt']>): boolean {
  if (runAt instanceof Date) return at.getTime() === runAt.getTime();
  if (runAt.after !== undefined && at.getTime() < runAt.after.getTime()) return false;
  return runAt.before === undefined || at.getTime() <= runAt.before.getTime();
}

/** JSON for messages; asymmetric matchers print as jest prints them (`Any<String>`). */
function show(value: unknown): string {
  try {
    return (
      JSON.stringify(value, (_key, v: unknown) =>
        isAsymmetricMatcher(v) ? `<${v.toAsymmetricMatcher?.() ?? String(v)}>` : v,
      ) ?? String(value)
    );
  } catch {
    return String(value);
  }
}

/** One line per captured job: what a failed assertion shows instead of the job it looked for. */
export function describeJobs(jobs: readonly CapturedJob[]): string {
  if (jobs.length === 0) return 'No jobs were enqueued.';
  const lines = jobs.map((j) => {
    const parts = [
      `#${j.id} ${j.name} (${j.job.name})`,
      `account: ${j.accountId ?? '(global)'}`,
      `queue: ${j.queue}`,
      `state: ${j.state}`,
    ];
    if (j.scheduledAt.getTime() !== j.enqueuedAt.getTime())
      parts.push(`runAt: ${j.scheduledAt.toISOString()}`);
    if (j.uniqueKey !== undefined) parts.push(`uniqueKey: ${j.uniqueKey}`);
    parts.push(`payload: ${show(j.payload)}`);
    return `  ${parts.join('  ')}`;
  });
  return `Enqueued jobs (${jobs.length}):\n${lines.join('\n')}`;
}

/** "ConfirmOrderJob with {"payload":…}" — the job and filter an assertion was about. */
export function describeExpectation(
  job: JobClass | undefined,
  filter: Omit<CapturedJobFilter, 'job'>,
): string {
  // `job` is named apart; an undefined criterion selects nothing, so it is not shown either.
  const criteria = Object.fromEntries(
    Object.entries(filter).filter(([key, v]) => key !== 'job' && v !== undefined),
  );
  const what = job ? job.name : 'a job';
  return Object.keys(criteria).length > 0 ? `${what} with ${show(criteria)}` : what;
}

/** The message of a failed "was enqueued" assertion. */
export function enqueuedFailureMessage(
  job: JobClass | undefined,
  filter: Omit<CapturedJobFilter, 'job'>,
  all: readonly CapturedJob[],
): string {
  return (
    `Expected ${describeExpectation(job, filter)} to have been enqueued, but no captured job matches.\n` +
    describeJobs(all)
  );
}

/** The message of a failed "was not enqueued" assertion. */
export function notEnqueuedFailureMessage(
  job: JobClass | undefined,
  filter: Omit<CapturedJobFilter, 'job'>,
  matches: readonly CapturedJob[],
  all: readonly CapturedJob[],
): string {
  const ids = matches.map((m) => `#${m.id}`).join(', ');
  return (
    `Expected ${describeExpectation(job, filter)} not to have been enqueued, but ${matches.length} ` +
    `captured job${matches.length === 1 ? '' : 's'} match${matches.length === 1 ? 'es' : ''} (${ids}).\n` +
    describeJobs(all)
  );
}
