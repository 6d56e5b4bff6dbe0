import { ConfigurableModuleBuilder } from '@nestjs/common';
import { DASHBOARD_MOUNT } from './dashboard.constants';
import { createDashboardController } from './dashboard.controller';
import { resolveMount } from './dashboard-mount';
import type {
  JobsDashboardModuleOptions,
  JobsDashboardMountOptions,
} from './jobs-dashboard.options';

/**
 * Builds `JobsDashboardModule.forRoot` / `forRootAsync` (options token `JOBS_DASHBOARD_MODULE_OPTIONS`).
 * The mount options (`path`, `guard`, `public`, `scope`) are extras: they decide the module's controller
 * and guard, so they are checked when `forRoot` is called, and a dashboard without a guard never starts.
 */
export const {
  ConfigurableModuleClass: JobsDashboardConfigurableModule,
  MODULE_OPTIONS_TOKEN: JOBS_DASHBOARD_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<JobsDashboardModuleOptions>({ moduleName: 'JobsDashboard' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createJobsDashboardOptions')
  .setExtras<JobsDashboardMountOptions>(
    { path: '/jobs', guard: undefined, public: false, scope: 'all' },
    (definition, extras) => {
      const mount = resolveMount(extras);
      return {
        ...definition,
        controllers: [...(definition.controllers ?? []), createDashboardController(mount)],
        providers: [...(definition.providers ?? []), { provide: DASHBOARD_MOUNT, useValue: mount }],
      };
    },
  )
  .build();
