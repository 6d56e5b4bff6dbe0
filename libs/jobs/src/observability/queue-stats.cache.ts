import type { QueueStats } from '../persistence/observability.repository';

/**
 * The per-queue counts, read with one query at most every `intervalMs` however often gauges are
 * collected or health is checked; concurrent readers share the query in flight. A failed read keeps the
 * last good value (and rejects only when there is none yet).
 */
export class QueueStatsCache {
  private value: QueueStats[] | undefined;
  private readAt = 0;
  private reading: Promise<QueueStats[]> | undefined;

  constructor(
    private readonly read: () => Promise<QueueStats[]>,
    private readonly intervalMs: number,
  ) {}

  /** The counts, at most `intervalMs` old (`maxAgeMs` to ask for fresher ones). */
  get(maxAgeMs = this.intervalMs): Promise<QueueStats[]> {
    if (this.value && Date.now() - this.readAt < maxAgeMs) return Promise.resolve(this.value);
    this.reading ??= this.read()
      .then((value) => {
        this.value = value;
        this.readAt = Date.now();
        return value;
      })
      .catch((error: unknown) => {
        if (this.value) return this.value;
        throw error;
      })
      .finally(() => (this.reading = undefined));
    return this.reading;
  }
}
