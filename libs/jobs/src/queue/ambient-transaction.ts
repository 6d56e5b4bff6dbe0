import type { EntityManager } from 'typeorm';

interface TransactionHostLike {
  isTransactionActive(): boolean;
  readonly tx: unknown;
}

let transactional:
  | {
      TransactionHost: {
        getInstance(name?: string): TransactionHostLike;
        /** Internal: the hosts created so far. Read only to skip a throw when there are none. */
        _instanceMap?: unknown;
      };
    }
  | null
  | undefined;

/**
 * The EntityManager of the `@nestjs-cls/transactional` transaction active in this CLS context, if the app
 * uses that package with its TypeORM adapter; `undefined` otherwise. Loaded lazily: the package is an
 * optional peer, and apps without it pay nothing.
 */
export function ambientEntityManager(): EntityManager | undefined {
  if (transactional === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      transactional = require('@nestjs-cls/transactional') as typeof transactional;
    } catch {
      transactional = null;
    }
  }
  if (!transactional) return undefined;
  // Installed but not set up in this app: getInstance() would throw (and build a stack trace) on every
  // enqueue.
  const hosts = transactional.TransactionHost._instanceMap;
  if (hosts instanceof Map && hosts.size === 0) return undefined;
  let host: TransactionHostLike;
  try {
    host = transactional.TransactionHost.getInstance();
  } catch {
    return undefined; // installed but not configured in this app
  }
  if (!host.isTransactionActive()) return undefined;
  const tx = host.tx as Partial<EntityManager> | undefined;
  return tx && typeof tx.query === 'function' && 'connection' in tx
    ? (tx as EntityManager)
    : undefined;
}
