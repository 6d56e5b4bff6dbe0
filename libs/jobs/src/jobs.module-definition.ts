import { ConfigurableModuleBuilder } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { JobsModuleOptions } from './interfaces';
import { RESOLVED_JOBS_OPTIONS } from './jobs.internal-constants';
import type { ResolvedJobsOptions } from './jobs-options';
import { JobsDatabase } from './persistence/jobs-database';

/** Import-time options of `forRoot` / `forRootAsync` (they decide the module's providers). */
export interface JobsModuleExtras {
  /** Make `JobQueueService` injectable in every module. Default `true`. */
  isGlobal?: boolean;
  /** Name of the TypeORM DataSource (as given to `TypeOrmModule.forRoot({ name })`). Default: the default one. */
  dataSourceName?: string;
}

/**
 * Builds `JobsModule.forRoot` / `forRootAsync` (options token `JOBS_MODULE_OPTIONS`). The DataSource is
 * injected by its token, so Nest creates TypeORM's connection before anything of ours touches it.
 */
export const {
  ConfigurableModuleClass: JobsConfigurableModule,
  MODULE_OPTIONS_TOKEN: JOBS_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<JobsModuleOptions>({ moduleName: 'Jobs' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createJobsOptions')
  .setExtras<JobsModuleExtras>({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
    providers: [
      ...(definition.providers ?? []),
      {
        provide: JobsDatabase,
        useFactory: (dataSource: DataSource, options: ResolvedJobsOptions) =>
          new JobsDatabase(dataSource, options.connection, options.database, options.listen),
        inject: [getDataSourceToken(extras.dataSourceName), RESOLVED_JOBS_OPTIONS],
      },
    ],
  }))
  .build();
