import { Controller, Get, Req, Res } from '@nestjs/common';
import type { Request, Response } from 'express';
import { PrometheusMetrics } from './prometheus-metrics';

/** `GET /metrics`: the app's metrics (the jobs library's included) in Prometheus text format. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly prometheus: PrometheusMetrics) {}

  @Get()
  scrape(@Req() req: Request, @Res() res: Response): void {
    this.prometheus.exporter.getMetricsRequestHandler(req, res);
  }
}
