import type { CanActivate, Type } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { InvalidDashboardOptionsError } from './invalid-dashboard-options.error';
import type {
  DashboardScope,
  JobsDashboardModuleOptions,
  JobsDashboardMountOptions,
} from './jobs-dashboard.options';

/** The checked import-time options of one mounted dashboard. */
export interface DashboardMount {
  /** Normalized: a leading slash, no trailing one (`/admin/jobs`). */
  path: string;
  guard: Type<CanActivate> | CanActivate | undefined;
  scope: DashboardScope;
}

/** The runtime options with their defaults applied. */
export interface DashboardSettings {
  csrfSecret: string;
  title: string;
  pageSize: number;
  bulkLimit: number;
  actor: (request: unknown) => string;
}

/**
 * Checks the mount options when `forRoot` is called, so a dashboard without a guard never starts. A guard
 * is required unless `public: true` says, explicitly, that anyone who can reach the app may use it.
 */
export function resolveMount(options: JobsDashboardMountOptions): DashboardMount {
  const path = `/${(options.path ?? '/jobs').replace(/^\/+|\/+$/g, '')}`;
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(path)) {
    throw new InvalidDashboardOptionsError(
      'path',
      `must be a URL path of plain segments such as '/admin/jobs', got ${JSON.stringify(options.path)}.`,
    );
  }
  if (!options.guard && options.public !== true) {
    throw new InvalidDashboardOptionsError(
      'guard',
      'is required: the dashboard shows every job and can retry, cancel and discard them. Pass a ' +
        'CanActivate class or instance (guard: AdminGuard), or set public: true to serve it unguarded.',
    );
  }
  if (options.guard && options.public === true) {
    throw new InvalidDashboardOptionsError(
      'public',
      'is true but a guard is given too: remove one of them (public: true means no guard).',
    );
  }
  const scope = options.scope ?? 'all';
  if (scope !== 'all' && scope !== 'account') {
    throw new InvalidDashboardOptionsError(
      'scope',
      `must be 'all' or 'account', got ${String(scope)}.`,
    );
  }
  return { path, guard: options.guard, scope };
}

/** The actor of a request: the guard's user id, else the client's address. */
function defaultActor(request: unknown): string {
  const req = request as { user?: { id?: unknown }; ip?: string };
  const id = req.user?.id;
  return id !== undefined && id !== null ? String(id) : (req.ip ?? 'unknown');
}

/** Applies defaults and checks the runtime options. */
export function resolveSettings(options: JobsDashboardModuleOptions): DashboardSettings {
  const pageSize = options.pageSize ?? 50;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 500) {
    throw new InvalidDashboardOptionsError(
      'pageSize',
      `must be an integer from 1 to 500, got ${pageSize}.`,
    );
  }
  const bulkLimit = options.bulkLimit ?? 10_000;
  if (!Number.isInteger(bulkLimit) || bulkLimit < 1 || bulkLimit > 100_000) {
    throw new InvalidDashboardOptionsError(
      'bulkLimit',
      `must be an integer from 1 to 100000, got ${bulkLimit}.`,
    );
  }
  if (options.csrfSecret !== undefined && options.csrfSecret.length < 32) {
    throw new InvalidDashboardOptionsError(
      'csrfSecret',
      'must be at least 32 characters (use e.g. `openssl rand -hex 32`), or leave it unset for a random one.',
    );
  }
  return {
    csrfSecret: options.csrfSecret ?? randomBytes(32).toString('hex'),
    title: options.title ?? 'Jobs',
    pageSize,
    bulkLimit,
    actor: options.actor ?? defaultActor,
  };
}
