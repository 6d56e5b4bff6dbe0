import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';
import { PrometheusMetrics } from './prometheus-metrics';

/** What operators scrape and probe: `/metrics` (Prometheus) and `/health` (Terminus). */
@Module({
  imports: [TerminusModule],
  controllers: [MetricsController, HealthController],
  providers: [PrometheusMetrics],
})
export class ObservabilityModule {}
