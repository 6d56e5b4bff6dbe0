import type { Attributes, Counter, Histogram, Meter } from '@opentelemetry/api';
import type { JobAttempt } from '../persistence/job-attempt';
import type { NewJob } from '../persistence/job-row';
import { type AttemptOutcome, outcomeName } from './attempt-outcome';
import { INSTRUMENTATION_SCOPE } from './job-tracing';
import { hasMeterProvider, loadOtelPackage } from './otel-package';
import type { QueueStatsCache } from './queue-stats.cache';

/** Histogram buckets in seconds: 5 ms to 10 min, for attempt durations and queue waits alike. */
const SECONDS_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600,
];

const EMPTY = { available: 0, scheduled: 0, running: 0, oldestAgeSeconds: 0 };

/**
 * OpenTelemetry metrics of jobs (names and attributes in the README, "Observability"):
 * counters `jobs.enqueued`, `jobs.started`, `jobs.completed`, `jobs.failed`, `jobs.retried`; histograms
 * `jobs.attempt.duration` and `jobs.queue.wait` (seconds); observable gauges `jobs.queue.depth` (per
 * queue and state) and `jobs.queue.oldest_age` (seconds), read through the cached queue stats. Attributes
 * are `jobs.name`, `jobs.queue` and, where an attempt ended, `jobs.outcome`; never the account (one series
 * per account would explode the cardinality). Attribute objects are made once per name and queue.
 *
 * Made only when `@opentelemetry/api` is installed and an SDK registered a meter provider.
 */
export class JobMetrics {
  private readonly enqueuedCounter: Counter;
  private readonly startedCounter: Counter;
  private readonly completedCounter: Counter;
  private readonly failedCounter: Counter;
  private readonly retriedCounter: Counter;
  private readonly duration: Histogram;
  private readonly wait: Histogram;
  /** name → queue → outcome ('' for none) → attributes. */
  private readonly attributes = new Map<string, Map<string, Map<string, Attributes>>>();

  private constructor(meter: Meter, stats: QueueStatsCache) {
    this.enqueuedCounter = meter.createCounter('jobs.enqueued', {
      description: 'Jobs enqueued (rows inserted; deduplicated ones not counted)',
    });
    this.startedCounter = meter.createCounter('jobs.started', { description: 'Attempts started' });
    this.completedCounter = meter.createCounter('jobs.completed', {
      description: 'Jobs completed',
    });
    this.failedCounter = meter.createCounter('jobs.failed', {
      description: 'Jobs that ended failed (attempts used up, or not retryable)',
    });
    this.retriedCounter = meter.createCounter('jobs.retried', {
      description: 'Failed attempts that will be retried',
    });
    const advice = { explicitBucketBoundaries: SECONDS_BUCKETS };
    this.duration = meter.createHistogram('jobs.attempt.duration', {
      description: 'How long attempts ran, by outcome',
      unit: 's',
      advice,
    });
    this.wait = meter.createHistogram('jobs.queue.wait', {
      description: 'How long jobs were due before a worker started them',
      unit: 's',
      advice,
    });
    const depth = meter.createObservableGauge('jobs.queue.depth', {
      description: 'Unfinished jobs per queue and state (available = due now)',
    });
    const oldest = meter.createObservableGauge('jobs.queue.oldest_age', {
      description: 'Age of the oldest due job per queue',
      unit: 's',
    });
    // A queue seen once keeps its series at 0 when it drains (an absent series reads as "no data").
    const known = new Set<string>();
    meter.addBatchObservableCallback(
      async (result) => {
        const rows = await stats.get();
        for (const q of rows) known.add(q.queue);
        for (const queue of known) {
          const q = rows.find((r) => r.queue === queue) ?? { ...EMPTY, queue };
          for (const state of ['available', 'scheduled', 'running'] as const)
            result.observe(depth, q[state], { 'jobs.queue': queue, 'jobs.state': state });
          result.observe(oldest, q.oldestAgeSeconds, { 'jobs.queue': queue });
        }
      },
      [depth, oldest],
    );
  }

  /** The metrics of this process, or `undefined` without the API or a registered SDK. */
  static create(options: { metrics: boolean }, stats: QueueStatsCache): JobMetrics | undefined {
    if (!options.metrics) return undefined;
    const api = loadOtelPackage();
    if (!api || !hasMeterProvider(api)) return undefined;
    return new JobMetrics(api.metrics.getMeter(INSTRUMENTATION_SCOPE), stats);
  }

  /** One job was inserted. */
  enqueued(job: NewJob): void {
    this.enqueuedCounter.add(1, this.attributesOf(job.name, job.queue, ''));
  }

  /** An attempt starts; `waitMs` comes with the claimed row. */
  started(job: JobAttempt): void {
    const attributes = this.attributesOf(job.name, job.queue, '');
    this.startedCounter.add(1, attributes);
    if (job.waitMs !== undefined) this.wait.record(Math.max(0, job.waitMs) / 1000, attributes);
  }

  /** An attempt's outcome was recorded. */
  ended(job: JobAttempt, outcome: AttemptOutcome, durationMs: number): void {
    const attributes = this.attributesOf(job.name, job.queue, outcomeName(outcome));
    this.duration.record(durationMs / 1000, attributes);
    if (outcome.kind === 'complete') this.completedCounter.add(1, attributes);
    else if (outcome.kind === 'fail') this.failedCounter.add(1, attributes);
    else if (outcome.kind === 'retry') this.retriedCounter.add(1, attributes);
  }

  private attributesOf(name: string, queue: string, outcome: string): Attributes {
    let byQueue = this.attributes.get(name);
    if (!byQueue) this.attributes.set(name, (byQueue = new Map()));
    let byOutcome = byQueue.get(queue);
    if (!byOutcome) byQueue.set(queue, (byOutcome = new Map()));
    let attributes = byOutcome.get(outcome);
    if (!attributes) {
      attributes = { 'jobs.name': name, 'jobs.queue': queue };
      if (outcome) attributes['jobs.outcome'] = outcome;
      byOutcome.set(outcome, attributes);
    }
    return attributes;
  }
}
