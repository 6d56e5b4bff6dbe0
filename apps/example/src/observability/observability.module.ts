import { Module } from '@nestjs/common';
import { MetricsController } from './metrics.controller';
import { PrometheusMetrics } from './prometheus-metrics';

/** What operators scrape and probe: `/metrics` (Prometheus). */
@Module({
  controllers: [MetricsController],
  providers: [PrometheusMetrics],
})
export class ObservabilityModule {}
