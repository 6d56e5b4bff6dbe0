import { Module } from '@nestjs/common';
import { ClsModule } from 'nestjs-cls';
import { DASHBOARD_SETTINGS } from './dashboard.constants';
import { DashboardActions } from './dashboard-actions.service';
import { DashboardInternals } from './dashboard-internals';
import { resolveSettings } from './dashboard-mount';
import { DashboardPages } from './dashboard-pages.service';
import { DashboardScope } from './dashboard-scope';
import type { JobsDashboardModuleOptions } from './jobs-dashboard.options';
import {
  JOBS_DASHBOARD_MODULE_OPTIONS,
  JobsDashboardConfigurableModule,
} from './jobs-dashboard.module-definition';

/**
 * A web dashboard for the jobs of `JobsModule`: server-rendered pages (overview, job list, job, schedules,
 * workers, accounts) and actions (retry, cancel, discard, bulk by filter, run a schedule now), mounted in
 * the host app. Import it beside `JobsModule.forRoot`:
 *
 * @example
 * JobsDashboardModule.forRoot({ path: '/admin/jobs', guard: AdminGuard })
 * JobsDashboardModule.forRoot({ path: '/account/jobs', guard: SignedInGuard, scope: 'account' })
 *
 * Every route is behind `guard`; forms are CSRF-protected; every page is sent with a
 * Content-Security-Policy that allows no inline script. Actions need the app's urlencoded body parser
 * (Nest's Express adapter has it on by default).
 */
@Module({
  imports: [ClsModule],
  providers: [
    {
      provide: DASHBOARD_SETTINGS,
      useFactory: (options: JobsDashboardModuleOptions) => resolveSettings(options),
      inject: [JOBS_DASHBOARD_MODULE_OPTIONS],
    },
    DashboardInternals,
    DashboardScope,
    DashboardPages,
    DashboardActions,
  ],
})
export class JobsDashboardModule extends JobsDashboardConfigurableModule {}
