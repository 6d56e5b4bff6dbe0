import { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Server } from 'node:http';
import { DataSource } from 'typeorm';
import { JobQueueService } from 'nestjs-tenant-jobs';
import { AppModule } from '../../apps/example/src/app.module';
import { FakeMailer } from '../../apps/example/src/mailer/fake-mailer.service';
import { createTestDatabase, TestDatabase } from './database';
import { trackApp } from './open-apps';

/** The example shop (apps/example) running on a fresh database, with what its suites use most. */
export interface ExampleApp {
  db: TestDatabase;
  app: INestApplication;
  http: Server;
  jobs: JobQueueService;
  mailer: FakeMailer;
  dataSource: DataSource;
  /** Closes the app, then drops its database. */
  close(): Promise<void>;
}

/**
 * Creates a test database and starts the example's real AppModule on it (its own migrations, the
 * in-process worker, the schedules). Logging is off: several tests make jobs fail on purpose (their
 * errors are asserted on, not printed).
 */
export async function startExampleApp(): Promise<ExampleApp> {
  const db = await createTestDatabase();
  let app: INestApplication | undefined;
  const close = async (): Promise<void> => {
    await app?.close();
    await db.drop();
  };
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.forRoot({ databaseUrl: db.url })],
    }).compile();
    app = trackApp(moduleRef.createNestApplication({ logger: false }), 'example app');
    await app.init();
  } catch (error) {
    await close().catch(() => undefined);
    throw error;
  }
  return {
    db,
    app,
    http: app.getHttpServer() as Server,
    jobs: app.get(JobQueueService),
    mailer: app.get(FakeMailer),
    dataSource: app.get(DataSource),
    close,
  };
}
