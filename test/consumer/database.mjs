/**
 * The PostgreSQL server the scratch apps run against, each in a fresh database of its own:
 * 1. DATABASE_URL when set (as for `npm test`);
 * 2. else the machine's server on 127.0.0.1:5432 as user postgres, when `pg_isready -h 127.0.0.1` answers
 *    (every machine of this project and CI has one, with trust authentication);
 * 3. else an embedded PostgreSQL, started through test/support/embedded-postgres.ts (embedded-server.ts)
 *    in .data/consumer-pg and stopped at the end.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const { Client } = createRequire(import.meta.url)('pg');

/** `{ url, description, stop() }` of the server to use. */
export async function databaseServer(repoRoot) {
  if (process.env.DATABASE_URL) {
    return {
      url: process.env.DATABASE_URL,
      description: 'DATABASE_URL',
      stop: async () => undefined,
    };
  }
  const ready = spawnSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432'], { stdio: 'ignore' });
  if (!ready.error && ready.status === 0) {
    return {
      url: 'postgres://postgres@127.0.0.1:5432/postgres',
      description: 'the local server on 127.0.0.1:5432 (pg_isready answered)',
      stop: async () => undefined,
    };
  }
  return startEmbedded(repoRoot);
}

/** Runs embedded-server.ts (through ts-node, with this repository's Node.js) and waits for its URL. */
function startEmbedded(repoRoot) {
  const child = spawn(
    process.execPath,
    [
      join(repoRoot, 'node_modules/ts-node/dist/bin.js'),
      '--transpile-only',
      'test/consumer/embedded-server.ts',
    ],
    { cwd: repoRoot, stdio: ['pipe', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.on('exit', (code) =>
      reject(new Error(`embedded PostgreSQL helper exited (${code}): ${out}`)),
    );
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const url = /^URL (\S+)$/m.exec(out)?.[1];
      if (!url) return;
      child.removeAllListeners('exit');
      const exited = new Promise((done) => child.on('exit', done));
      resolve({
        url,
        description:
          'an embedded PostgreSQL in .data/consumer-pg (no DATABASE_URL, nothing on 127.0.0.1:5432)',
        stop: async () => {
          child.stdin.end(); // the helper stops the server and exits when its stdin closes
          await exited;
        },
      });
    });
  });
}

/** Creates `consumer_<set>_<random>` on the server; returns its URL and a `drop()`. */
export async function createDatabase(serverUrl, setId) {
  const name = `consumer_${setId}_${randomBytes(4).toString('hex')}`;
  await withClient(serverUrl, (c) => c.query(`create database ${name}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: () =>
      withClient(serverUrl, (c) => c.query(`drop database if exists ${name} with (force)`)),
  };
}

/** Runs `fn` with a client on `url`, closed afterwards. */
export async function withClient(url, fn) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
