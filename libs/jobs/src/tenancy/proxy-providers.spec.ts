import type { ClsService } from 'nestjs-cls';

const MANAGER = 'nestjs-cls/dist/src/lib/proxy-provider/proxy-provider-manager';

/** A ClsService stand-in: only `proxy.resolve` is used, and only on the fallback path. */
function fakeCls() {
  const resolve = jest.fn(() => Promise.resolve());
  return { cls: { proxy: { resolve } } as unknown as ClsService, resolve };
}

/** `proxyProviderResolver(cls)`, made while nestjs-cls's internal manager module is replaced by `manager`. */
function resolverWith(manager: () => unknown, cls: ClsService): () => Promise<void> | undefined {
  let made!: () => Promise<void> | undefined;
  jest.isolateModules(() => {
    jest.doMock(MANAGER, manager);
    const { proxyProviderResolver } =
      jest.requireActual<typeof import('./proxy-providers')>('./proxy-providers');
    made = proxyProviderResolver(cls);
  });
  jest.dontMock(MANAGER);
  return made;
}

describe('proxyProviderResolver', () => {
  it('does nothing, without a promise, while the app has no proxy providers', () => {
    const { cls, resolve } = fakeCls();
    const resolveAll = jest.fn(() => Promise.resolve());
    const resolveProxies = resolverWith(
      () => ({
        ProxyProviderManager: { proxyProviderMap: new Map(), resolveProxyProviders: resolveAll },
      }),
      cls,
    );
    expect(resolveProxies()).toBeUndefined();
    expect(resolveAll).not.toHaveBeenCalled();
    expect(resolve).not.toHaveBeenCalled();
  });

  it('resolves every proxy provider once the app has some', async () => {
    const { cls } = fakeCls();
    const map = new Map();
    const resolveAll = jest.fn(() => Promise.resolve());
    const resolveProxies = resolverWith(
      () => ({
        ProxyProviderManager: { proxyProviderMap: map, resolveProxyProviders: resolveAll },
      }),
      cls,
    );
    map.set(Symbol('CurrentAccount'), {}); // registered after the resolver was made, as Nest does
    await resolveProxies();
    expect(resolveAll).toHaveBeenCalledWith([]);
  });

  it.each([
    [
      'is gone',
      () => {
        throw new Error('Cannot find module');
      },
    ],
    ['no longer exports the manager', () => ({})],
    ['keeps it in another shape', () => ({ ProxyProviderManager: { proxyProviderMap: {} } })],
  ])('falls back to cls.proxy.resolve() when the internal module %s', async (_, manager) => {
    const { cls, resolve } = fakeCls();
    await resolverWith(manager, cls)();
    expect(resolve).toHaveBeenCalledTimes(1);
  });

  it('finds the manager in the installed nestjs-cls (else every job pays the slow path)', () => {
    const { ProxyProviderManager } = jest.requireActual<{
      ProxyProviderManager: { proxyProviderMap: unknown; resolveProxyProviders: unknown };
    }>(MANAGER);
    expect(ProxyProviderManager.proxyProviderMap).toBeInstanceOf(Map);
    expect(typeof ProxyProviderManager.resolveProxyProviders).toBe('function');
  });
});
