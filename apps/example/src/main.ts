import { INestApplication, Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { relative, resolve } from 'node:path';
import { AppModule } from './app.module';
import { adminToken } from './dashboard/admin-token.guard';
import { EmbeddedPostgresServer, startEmbeddedPostgres } from './database/embedded-postgres';

const logger = new Logger('Bootstrap');

async function bootstrap(): Promise<void> {
  const port = parsePort(process.env.PORT ?? '3000');
  let embedded: EmbeddedPostgresServer | undefined;
  let databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl) {
    const dataDir = resolve('.data/example-pg');
    logger.log(`No DATABASE_URL: starting embedded PostgreSQL (data in ${relative('.', dataDir)})`);
    embedded = await startEmbeddedPostgres(dataDir);
    databaseUrl = embedded.url;
    logger.log(
      `Embedded PostgreSQL ${embedded.created ? 'created and ' : ''}running at ${databaseUrl} ` +
        `(log ${relative('.', embedded.logFile)})`,
    );
  }

  let app: INestApplication | undefined;
  try {
    // abortOnError: false makes a failed start throw (and reach the cleanup below) instead of abort().
    app = await NestFactory.create(AppModule.forRoot({ databaseUrl, embeddedPostgres: embedded }), {
      abortOnError: false,
    });
    app.enableShutdownHooks();
    await app.listen(port);
  } catch (error) {
    // Once the app exists, closing it stops the embedded server too (EmbeddedPostgresShutdown).
    if (app) await app.close();
    else await embedded?.stop();
    throw error;
  }

  const url = `http://localhost:${port}`;
  logger.log(`Shop example listening on ${url}`);
  logger.log(
    `Jobs dashboard: ${url}/admin/jobs?token=${adminToken() === 'dev-admin-token' ? 'dev-admin-token' : '<ADMIN_TOKEN>'}\n` +
      `  Account view: ${url}/account/jobs?account_id=<account id>`,
  );
  logger.log(
    `Try it:\n  curl -s ${url}/\n` +
      `  curl -s -X POST ${url}/accounts -H 'content-type: application/json' -d '{"name":"Acme"}'`,
  );
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`Invalid PORT: ${value}`);
  return port;
}

bootstrap().catch((error: unknown) => {
  logger.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  // Cleanup is done; exit now rather than wait for whatever a half-built app left running (e.g. TypeORM
  // retrying its connection for half a minute after another provider failed).
  process.exit(1);
});
