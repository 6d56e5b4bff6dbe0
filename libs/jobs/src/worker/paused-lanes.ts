import type { JobAttempt } from '../persistence/job-attempt';
import type { PausedLists } from '../persistence/pause-store';

/**
 * The worker's copy of what is paused (`JobFlowControl`), passed to every claim as two arrays so the
 * claim never reads the `paused` table per job. Reloaded when older than the poll interval (so a pause
 * holds on every worker within one poll interval, NOTIFY or not) and at once after a pause or resume
 * NOTIFY (`invalidate`). `version` moves on every change, so the fetch loop can tell that a claim sent
 * with the previous lists may hold jobs paused since.
 */
export class PausedLanes {
  /** What the claims leave alone now; `undefined` while nothing is paused (the claim's empty arrays). */
  lists: PausedLists | undefined;
  /** Moves on every change of `lists`. */
  version = 0;
  private loadedAt = Number.NEGATIVE_INFINITY;
  private loading: Promise<void> | undefined;
  /** Moves on every `invalidate`: a load that started before one does not count as fresh. */
  private generation = 0;

  constructor(
    private readonly load: () => Promise<PausedLists>,
    private readonly maxAgeMs: number,
    /** Called after a change, e.g. to hand back buffered jobs that are paused now. */
    private readonly changed: () => void,
  ) {}

  /** The next `refreshIfStale` reloads (a pause or resume was announced, or the LISTEN reconnected). */
  invalidate(): void {
    this.generation++;
    this.loadedAt = Number.NEGATIVE_INFINITY;
  }

  /** Reloads when stale (a promise to await), else `undefined`: no promise on a fresh, usual turn. */
  refreshIfStale(): Promise<void> | undefined {
    if (this.loading) return this.loading;
    if (Date.now() - this.loadedAt < this.maxAgeMs) return undefined;
    const startedAt = Date.now();
    const generation = this.generation;
    this.loading = this.load()
      .then((lists) => {
        if (generation === this.generation) this.loadedAt = startedAt;
        this.apply(lists);
      })
      .finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** Whether `job` is paused by the lists held now. */
  holds(job: Pick<JobAttempt, 'queue' | 'accountId'>): boolean {
    const lists = this.lists;
    if (!lists) return false;
    return (
      lists.queues.includes(job.queue) ||
      (job.accountId !== null && lists.accounts.includes(job.accountId))
    );
  }

  private apply(lists: PausedLists): void {
    const next = lists.queues.length + lists.accounts.length === 0 ? undefined : lists;
    if (sameLists(this.lists, next)) return;
    this.lists = next;
    this.version++;
    this.changed();
  }
}

function sameLists(a: PausedLists | undefined, b: PausedLists | undefined): boolean {
  if (!a || !b) return a === b;
  return sameItems(a.queues, b.queues) && sameItems(a.accounts, b.accounts);
}

function sameItems(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item) => b.includes(item));
}
