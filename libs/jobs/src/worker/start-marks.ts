import type { JobAttempt } from '../persistence/job-attempt';
import type { StartMarks } from '../persistence/worker-store';

/**
 * The "started" marks not written yet: what lets a rescue charge an attempt only to the jobs a dead worker
 * had started (issue 13, finding 4; see `rescueSql`). Writing a mark per start would cost a statement per
 * job, so marks are lazy: the executor notes each start here (one array push), and the next heartbeat
 * takes the notes of the jobs that are still running and writes them in its lease update (no statement
 * of their own). A job that finished before that needs no mark (its completion or failure says it ran),
 * so on a busy worker most starts never cost a row update. Not on completion batches: a batch that also
 * updated running rows would take row locks in another order than the heartbeat and deadlock with it.
 * The window this leaves (a job that kills its process within a heartbeat interval of its start looks
 * unstarted) is closed by the rescue: such a job is returned unstarted once, and from then on its start is
 * written before it performs (`JobExecutor`).
 */
export class StartMarkBook {
  private noted: JobAttempt[] = [];
  /**
   * When `noted` reaches this length, the notes of jobs that already finished are dropped. Without it a
   * fast drain keeps every attempt it started between two heartbeats, payload included (at 20,000 jobs/s
   * and a 10 s heartbeat, 200,000 of them: measured as worker RSS growing with the drain's length). The
   * threshold doubles with what stays, so the pruning costs O(1) per note however many jobs run.
   */
  private pruneAt = PRUNE_FLOOR;

  constructor(
    /** True while `job` (this very attempt) is running here. */
    private readonly running: (job: JobAttempt) => boolean,
  ) {}

  /** Notes that `job` started. */
  note(job: JobAttempt): void {
    this.noted.push(job);
    if (this.noted.length >= this.pruneAt) {
      this.noted = this.noted.filter(this.running);
      this.pruneAt = Math.max(PRUNE_FLOOR, 2 * this.noted.length);
    }
  }

  /** How many notes are held (for tests: bounded by the running jobs, not by the jobs started). */
  get size(): number {
    return this.noted.length;
  }

  /** The marks of the noted jobs still running (`undefined` when none), forgetting every note. */
  take(): TakenMarks | undefined {
    if (this.noted.length === 0) return undefined;
    const noted = this.noted;
    this.noted = [];
    let marks: TakenMarks | undefined;
    for (const job of noted) {
      if (!this.running(job)) continue;
      marks ??= { ids: [], attempts: [], jobs: [] };
      marks.ids.push(job.id);
      marks.attempts.push(job.attempt);
      marks.jobs.push(job);
    }
    return marks;
  }

  /** The write that carried `marks` failed: note them again (those still running are taken next time). */
  restore(marks: TakenMarks | undefined): void {
    if (marks) for (const job of marks.jobs) this.noted.push(job);
  }
}

/** The smallest `pruneAt`: below it, notes are only dropped by `take`. */
const PRUNE_FLOOR = 1_024;

/** Marks taken for a write, with the jobs they are of (to note them again if the write fails). */
export interface TakenMarks extends StartMarks {
  jobs: JobAttempt[];
}
