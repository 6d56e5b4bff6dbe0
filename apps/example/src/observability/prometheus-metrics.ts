import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';

/**
 * The app's OpenTelemetry meter provider, read by a Prometheus exporter. Registered globally when this
 * provider is built, which is before any module's bootstrap hook, so the jobs library finds it when it
 * starts. In a real deployment this usually lives in a `tracing.ts`/`otel.ts` loaded before Nest (e.g.
 * NodeSDK); it is a provider here so each instance of the app (the e2e suites start several) gets its own.
 */
@Injectable()
export class PrometheusMetrics implements OnApplicationShutdown {
  /** Serves the Prometheus text format; no port of its own (the app's `/metrics` route calls it). */
  readonly exporter = new PrometheusExporter({ preventServerStart: true });
  private readonly provider = new MeterProvider({ readers: [this.exporter] });

  constructor() {
    metrics.setGlobalMeterProvider(this.provider);
  }

  async onApplicationShutdown(): Promise<void> {
    metrics.disable();
    await this.provider.shutdown();
  }
}
