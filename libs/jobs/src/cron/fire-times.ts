import { CronTime } from 'cron';

/**
 * Fire-time arithmetic for a cron expression in a time zone. Replicas agree on a tick by its scheduled fire
 * time, never by the moment their timer went off, so everything here is a pure function of the
 * expression, the zone and a clock reading.
 */
export class FireTimes {
  private readonly cron: CronTime;

  /** Throws (with the `cron` package's message) for an invalid expression or time zone. */
  constructor(
    readonly expression: string,
    readonly timeZone?: string,
  ) {
    this.cron = new CronTime(expression, timeZone);
  }

  /** The first fire time strictly after `date`. */
  next(date: Date): Date {
    return this.cron.getNextDateFrom(date, this.timeZone).toJSDate();
  }

  /** Fire times strictly after `after` and at or before `until`, oldest first, at most `max`. */
  between(after: Date, until: Date, max: number): Date[] {
    const times: Date[] = [];
    for (
      let t = this.next(after);
      t.getTime() <= until.getTime() && times.length < max;
      t = this.next(t)
    ) {
      times.push(t);
    }
    return times;
  }

  /**
   * The scheduled time of the tick running now: the latest fire time at or before `now + toleranceMs`.
   * The `cron` package fires a tick at or up to its 250 ms threshold after the scheduled time (later ticks
   * are skipped), so the latest fire time not after now is the one being fired; the small tolerance
   * covers a timer that wakes a millisecond early. `undefined` if there was none in the past year.
   */
  current(now: Date, toleranceMs = 25): Date | undefined {
    const until = new Date(now.getTime() + toleranceMs);
    for (const window of [60_000, 3_600_000, 86_400_000, 32 * 86_400_000, 366 * 86_400_000]) {
      const times = this.between(
        new Date(until.getTime() - window),
        until,
        Number.MAX_SAFE_INTEGER,
      );
      if (times.length > 0) return times[times.length - 1];
    }
    return undefined;
  }
}
