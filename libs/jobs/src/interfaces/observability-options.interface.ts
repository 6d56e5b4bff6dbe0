import type { LogLevel, LoggerService } from '@nestjs/common';

/** Events, traces, metrics and progress (`JobsModule.forRoot({ observability })`). */
export interface ObservabilityOptions {
  /**
   * Longest an `@OnJobEvent` listener call is waited for; a slower one is logged and no longer waited
   * for (it is not interrupted). Per listener: `@OnJobEvent(type, { timeoutMs })`. Default `5_000`.
   */
  listenerTimeoutMs?: number;
  /**
   * OpenTelemetry spans (`send <queue>` at enqueue, `process <queue>` per attempt) when
   * `@opentelemetry/api` is installed and an SDK registered a tracer provider. Default `true`.
   */
  tracing?: boolean;
  /**
   * OpenTelemetry metrics (counters, histograms, queue gauges) when `@opentelemetry/api` is installed and
   * an SDK registered a meter provider. Default `true`.
   */
  metrics?: boolean;
  /**
   * Put the job's account id on spans (`jobs.account_id`). Turn it off when account ids must not leave
   * the app. Metrics never carry it (one series per account would explode their cardinality). Default `true`.
   */
  accountIdOnSpans?: boolean;
  /** The queue-depth gauges read the database at most this often (cached in between). Default `5_000`. */
  queueStatsIntervalMs?: number;
  /**
   * `ctx.progress(value)` writes a job's progress at most this often (the last value wins and is
   * written before the job's outcome). Default `1_000`.
   */
  progressIntervalMs?: number;
}

/** How the library logs (`JobsModule.forRoot({ logger, logLevel })`). */
export interface JobsLoggingOptions {
  /** Where the library's own lines go. Default: Nest's `Logger` (the app's logger). */
  logger?: LoggerService;
  /**
   * `'debug'` (or `'verbose'`) adds one line per attempt start and end (job id, name, account,
   * duration; never the payload). Default `'log'`: warnings, failures and worker start/stop only.
   */
  logLevel?: LogLevel;
}
