import type * as OtelApi from '@opentelemetry/api';

/** `@opentelemetry/api`'s exports, once loaded. */
export type OtelPackage = typeof OtelApi;

let loaded: OtelPackage | null | undefined;

/**
 * `@opentelemetry/api`, required on first use, or `undefined` when it is not installed. It is an optional
 * peer: without it there are simply no spans and no metrics (nothing to report to), so unlike
 * `@nestjs/schedule` its absence is not an error. Any other load failure is rethrown.
 */
export function loadOtelPackage(): OtelPackage | undefined {
  if (loaded !== undefined) return loaded ?? undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('@opentelemetry/api') as OtelPackage;
  } catch (error) {
    if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') throw error;
    loaded = null;
  }
  return loaded ?? undefined;
}

/**
 * True when an SDK registered a tracer provider. The API's global provider is a proxy whose delegate
 * stays the no-op one until then; spans from a no-op tracer cost allocations and record nothing, so the
 * library starts none at all.
 */
export function hasTracerProvider(api: OtelPackage): boolean {
  const provider = api.trace.getTracerProvider();
  const delegate = provider instanceof api.ProxyTracerProvider ? provider.getDelegate() : provider;
  return delegate.constructor.name !== 'NoopTracerProvider';
}

/** True when an SDK registered a meter provider (the API's default is a no-op one). */
export function hasMeterProvider(api: OtelPackage): boolean {
  return api.metrics.getMeterProvider().constructor.name !== 'NoopMeterProvider';
}
