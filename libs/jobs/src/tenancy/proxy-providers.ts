import type { ClsService } from 'nestjs-cls';

/** What nestjs-cls keeps about its proxy providers (internal, hence looked up defensively). */
interface ProxyProviderRegistry {
  proxyProviderMap?: Map<unknown, unknown>;
  resolveProxyProviders?: (symbols: symbol[]) => Promise<void>;
}

const REGISTRY_MODULE = 'nestjs-cls/dist/src/lib/proxy-provider/proxy-provider-manager';

/**
 * A function that resolves the app's CLS proxy providers in the current CLS context, the way
 * `cls.proxy.resolve()` does, but that costs nothing when the app has none.
 *
 * `cls.proxy.resolve()` imports the proxy-provider manager with a dynamic `require` on every call (a
 * circular-dependency workaround in nestjs-cls 6); on a worker performing tens of thousands of jobs a
 * second that module lookup was a tenth of its CPU. The manager is looked up once here instead, and
 * resolution skipped while no proxy provider is registered. If a future nestjs-cls moves it, this falls
 * back to the public `cls.proxy.resolve()`.
 */
export function proxyProviderResolver(cls: ClsService): () => Promise<void> | undefined {
  let registry: ProxyProviderRegistry | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require(REGISTRY_MODULE) as { ProxyProviderManager?: ProxyProviderRegistry };
    registry = loaded.ProxyProviderManager;
  } catch {
    registry = undefined;
  }
  const map = registry?.proxyProviderMap;
  const resolve = registry?.resolveProxyProviders;
  if (!registry || !(map instanceof Map) || typeof resolve !== 'function') {
    return () => cls.proxy.resolve();
  }
  return () => (map.size === 0 ? undefined : resolve.call(registry, []));
}
