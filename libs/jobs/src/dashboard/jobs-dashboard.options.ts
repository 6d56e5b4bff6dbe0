import type { CanActivate, Type } from '@nestjs/common';

/**
 * Who sees what: `'all'` shows every job (an operator's dashboard); `'account'` scopes every page and
 * action to the current CLS account (a "your background jobs" page in a tenant's settings).
 */
export type DashboardScope = 'all' | 'account';

/**
 * Import-time options of `JobsDashboardModule.forRoot` / `forRootAsync`: they decide the routes and who may
 * reach them, so they are given directly, never from an async factory.
 */
export interface JobsDashboardMountOptions {
  /** Where the dashboard is mounted in the host app. Default `'/jobs'`. */
  path?: string;
  /**
   * Decides who may open the dashboard: a `CanActivate` class (built by Nest's injector, so it may inject
   * the app's global providers such as `ClsService`) or an instance. Runs on every page, asset and action,
   * with a normal `ExecutionContext`. Required unless `public` is `true`.
   */
  guard?: Type<CanActivate> | CanActivate;
  /** Serve the dashboard with no guard at all. Only for a local tool; default `false`. */
  public?: boolean;
  /** `'account'` scopes everything to the current CLS account (`tenant.clsKey`). Default `'all'`. */
  scope?: DashboardScope;
}

/** Runtime options of the dashboard (also from `forRootAsync`'s factory). */
export interface JobsDashboardModuleOptions {
  /**
   * Secret of the CSRF tokens (an HMAC key). Give every replica the same one (at least 32 characters),
   * or a form rendered by one replica is refused by another. Default: random at startup.
   */
  csrfSecret?: string;
  /** Title in the page header. Default `'Jobs'`. */
  title?: string;
  /** Rows per page of the job list, 1–500. Default `50`. */
  pageSize?: number;
  /** Most jobs one bulk action may touch, 1–100,000. Default `10_000`. */
  bulkLimit?: number;
  /**
   * Who did an action, for the log line every action writes. Default: the guard's `req.user.id`, else
   * the client's IP address.
   */
  actor?: (request: unknown) => string;
}
