import type { NewJob } from '../persistence/job-row';
import { forEachInserted } from './inserted-jobs';

function job(uniqueKey: string | null, name = 'j'): NewJob {
  return {
    name,
    queue: 'default',
    priority: 0,
    payloadJson: '{}',
    accountId: null,
    maxAttempts: 1,
    runAt: null,
    delayMs: null,
    uniqueKey,
  };
}

function pairs(jobs: NewJob[], inserted: Array<{ id: string; unique_key: string | null }>) {
  const out: Array<[string | null, string]> = [];
  forEachInserted(jobs, inserted, (j, id) => out.push([j.uniqueKey, id]));
  return out;
}

describe('forEachInserted (which enqueued jobs get an "enqueued" event)', () => {
  it('pairs jobs and rows in order when every job was written', () => {
    expect(
      pairs(
        [job(null), job('k')],
        [
          { id: '1', unique_key: null },
          { id: '2', unique_key: 'k' },
        ],
      ),
    ).toEqual([
      [null, '1'],
      ['k', '2'],
    ]);
  });

  it('leaves out the jobs a unique key deduplicated, and a key given twice counts once', () => {
    expect(
      pairs(
        [job('held'), job(null), job('new'), job('new'), job(null)],
        [
          { id: '5', unique_key: null },
          { id: '6', unique_key: 'new' },
          { id: '7', unique_key: null },
        ],
      ),
    ).toEqual([
      [null, '5'],
      ['new', '6'],
      [null, '7'],
    ]);
  });
});
