import type { NewJob } from '../persistence/job-row';
import type { InsertedJob } from '../persistence/job-store';

/**
 * Calls `fn` for each job that was written, with its new id. `inserted` holds the written rows in job
 * order; a job whose `uniqueKey` deduplicated to an unfinished job has no row (and no call).
 */
export function forEachInserted(
  jobs: readonly NewJob[],
  inserted: readonly InsertedJob[],
  fn: (job: NewJob, id: string) => void,
): void {
  if (inserted.length === jobs.length) {
    for (let i = 0; i < jobs.length; i++) fn(jobs[i], inserted[i].id);
    return;
  }
  const byKey = new Map<string, string>();
  const plain: string[] = [];
  for (const row of inserted) {
    if (row.unique_key === null) plain.push(row.id);
    else byKey.set(row.unique_key, row.id);
  }
  let next = 0;
  for (const job of jobs) {
    if (job.uniqueKey === null) {
      if (next < plain.length) fn(job, plain[next++]);
      continue;
    }
    const id = byKey.get(job.uniqueKey);
    if (id === undefined) continue;
    byKey.delete(job.uniqueKey); // two items with one key: the first one wrote the row
    fn(job, id);
  }
}
