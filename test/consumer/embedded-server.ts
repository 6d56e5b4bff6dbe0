/**
 * The consumer test's last-resort PostgreSQL (see database.mjs): starts an embedded server through the
 * e2e suites' helper, prints `URL <url>` on stdout, and stops it (deleting its data) when stdin closes.
 */
import { join } from 'node:path';
import { DATA_ROOT, startEmbeddedPostgres } from '../support/embedded-postgres';

async function main(): Promise<void> {
  const server = await startEmbeddedPostgres({
    dataDir: join(DATA_ROOT, 'consumer-pg'),
    logFile: join(DATA_ROOT, 'consumer-pg.log'),
    persistent: false,
  });
  process.stdout.write(`URL ${server.url}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    server.destroy().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
