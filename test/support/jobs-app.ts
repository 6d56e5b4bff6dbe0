import type { DynamicModule, ModuleMetadata, Provider, Type } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import { JobsModule, JobsModuleOptions } from 'nestjs-tenant-jobs';
import { trackApp } from './open-apps';

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
 * Compiles and initialises a testing module from `metadata`, with shutdown hooks on, registered with the
 * leak check until it is closed. A startup failure closes the half-started app (its connections and
 * timers) and rethrows. Every e2e suite starts its apps through this (or `createJobsApp`, built on it).
 */
export async function startTestApp(
  metadata: ModuleMetadata,
  label = 'test app',
): Promise<TestingModule> {
  const moduleRef = trackApp(await Test.createTestingModule(metadata).compile(), label);
  moduleRef.enableShutdownHooks();
  try {
    await moduleRef.init();
  } catch (error) {
    await moduleRef.close().catch(() => undefined);
    throw error;
  }
  return moduleRef;
}

/**
 * Builds and initialises a Nest application context the way a user's app module would: ClsModule,
 * TypeOrmModule on the test database, JobsModule, plus the given jobs. Close it with `app.close()`.
 */
export async function createJobsApp(options: JobsAppOptions): Promise<TestingModule> {
  const { worker, ...jobs } = options.jobs ?? {};
  return startTestApp(
    {
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
    },
    'createJobsApp',
  );
}
