/**
 * `BENCH_OURS_OTEL=1`: registers an OpenTelemetry SDK before the app starts (traces into an in-memory
 * exporter through a simple span processor, metrics into an in-memory exporter read every second), to
 * measure what the library's spans and metrics cost per job. Unset for the published figures.
 */
import { context, metrics, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';

export const OTEL_ENV = 'BENCH_OURS_OTEL';

/** Registers the SDK when the env var is set; resolves a function that unregisters it. */
export function registerBenchOtel(): (() => Promise<void>) | undefined {
  if (!process.env[OTEL_ENV]) return undefined;
  const spans = new InMemorySpanExporter();
  const tracer = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const reader = new PeriodicExportingMetricReader({
    exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
    exportIntervalMillis: 1_000,
  });
  const meter = new MeterProvider({ readers: [reader] });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(tracer);
  metrics.setGlobalMeterProvider(meter);
  // Keep memory flat over long drains: the spans are made and exported, then dropped.
  const trim = setInterval(() => spans.reset(), 1_000);
  return async () => {
    clearInterval(trim);
    await Promise.all([tracer.shutdown(), meter.shutdown()]);
    trace.disable();
    metrics.disable();
    context.disable();
  };
}
