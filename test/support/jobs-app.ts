import type { DynamicModule, ModuleMetadata, Provider, Type } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import { JobsModule, JobsModuleOptions } from 'nestjs-tenant-jobs';

/** What a suite needs to build an application around the jobs module. */
export interface JobsAppOptions {
  /** Database URL (from `createTestDatabase()`). */
  url: string;
  /** Job classes and other providers of the app. */
  providers?: Provider[];
  imports?: Array<Type<unknown> | DynamicModule>;
  /** JobsModule options; `runMigrations: true` and a fast poll are added unless given. */
  jobs?: JobsModuleOptions;
  /** ClsModule.forRoot is registered unless false. */
  cls?: boolean;
  extra?: Partial<ModuleMetadata>;
}

/**
 * Builds and initialises a Nest application context the way a user's app module would: ClsModule,
 * TypeOrmModule on the test database, JobsModule, plus the given jobs. Close it with `app.close()`.
 */
export async function createJobsApp(options: JobsAppOptions): Promise<TestingModule> {
  const { worker, ...jobs } = options.jobs ?? {};
  const moduleRef = await Test.createTestingModule({
    imports: [
      ...(options.cls === false ? [] : [ClsModule.forRoot({ global: true })]),
      TypeOrmModule.forRoot({ type: 'postgres', url: options.url, extra: { max: 10 } }),
      JobsModule.forRoot({
        runMigrations: true,
        ...jobs,
        worker: { pollIntervalMs: 100, ...worker },
      }),
      ...(options.imports ?? []),
    ],
    providers: options.providers ?? [],
    ...options.extra,
  }).compile();
  moduleRef.enableShutdownHooks();
  try {
    await moduleRef.init();
  } catch (error) {
    // A startup failure must not leave the half-started app's connections and timers behind.
    await moduleRef.close().catch(() => undefined);
    throw error;
  }
  return moduleRef;
}
