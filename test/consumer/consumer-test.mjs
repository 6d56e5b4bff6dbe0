#!/usr/bin/env node
/**
 * Consumer test (`npm run test:consumer`, run by .ci/run after `npm test`): installs the packed package
 * into scratch apps outside the repository, as a user would, one per version set (version-sets.mjs), and
 * checks in each that
 *   1. plain `npm install` of the tarball and the set's packages succeeds with no peer, ERESOLVE or
 *      engine warning (and, for sets without @nestjs/schedule, that it really is absent);
 *   2. the README's Quick start, written verbatim into src/ (readme-blocks.mjs), compiles with tsc;
 *   3. the TypeORM CLI runs its migrations (the library's, from jobsMigrations);
 *   4. the app starts against PostgreSQL, an HTTP request with an account header enqueues a job, and the
 *      job is performed by the worker in that account (its result is what the job's service read from
 *      CLS), invisible to another account; the app stops cleanly on SIGTERM;
 *   5. the README's "Testing your jobs" spec passes under Jest (with the README's Node options);
 *   6. an ES module imports both entry points.
 * Options: CONSUMER_SETS=a,c runs only those sets; KEEP_CONSUMER_APPS=1 keeps the scratch folders.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDatabase, databaseServer, withClient } from './database.mjs';
import { cleanEnv, run, seconds, start, systemNode, tail } from './processes.mjs';
import { readmeFiles } from './readme-blocks.mjs';
import { writeScratchApp } from './scratch-app.mjs';
import { VERSION_SETS } from './version-sets.mjs';

const repoRoot = realpathSync(join(dirname(fileURLToPath(import.meta.url)), '..', '..'));
const started = Date.now();
/** Prints where @nestjs/schedule resolves from the scratch app, or `absent`. */
const schedulePresence = `try { console.log(require.resolve('@nestjs/schedule')) } catch { console.log('absent') }`;

const wanted = process.env.CONSUMER_SETS?.split(',').map((s) => s.trim());
const sets = VERSION_SETS.filter((set) => !wanted || wanted.includes(set.id));
if (sets.length === 0) throw new Error(`CONSUMER_SETS=${process.env.CONSUMER_SETS} names no set`);

console.log('Consumer test: packing the package');
const packed = execFileSync(
  process.execPath,
  [join(repoRoot, 'scripts/build-package.mjs'), '--pack'],
  {
    cwd: repoRoot,
    encoding: 'utf8',
  },
);
const tarball = join(repoRoot, /^Packed (\S+)$/m.exec(packed)[1]);
const files = readmeFiles(join(repoRoot, 'README.md'));

const work = realpathSync(mkdtempSync(join(tmpdir(), 'nestjs-tenant-jobs-consumer-')));
if (!relative(repoRoot, work).startsWith('..')) throw new Error(`${work} is inside the repository`);
const server = await databaseServer(repoRoot);
console.log(
  `  tarball ${relative(repoRoot, tarball)}; apps in ${work}; PostgreSQL: ${server.description}`,
);

const failures = [];
try {
  for (const set of sets) {
    const t0 = Date.now();
    console.log(`\n[${set.id}] ${set.title}`);
    try {
      await runSet(set);
      console.log(`[${set.id}] passed in ${seconds(Date.now() - t0)}`);
    } catch (error) {
      failures.push(set.id);
      console.log(
        `[${set.id}] FAILED in ${seconds(Date.now() - t0)}: ${error instanceof Error ? error.message : error}`,
      );
    }
  }
} finally {
  await server.stop();
  if (process.env.KEEP_CONSUMER_APPS) console.log(`\nScratch apps kept in ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

const passed = sets.length - failures.length;
console.log(`\nConsumer test took ${seconds(Date.now() - started)}`);
console.log(`${passed} passed, ${failures.length} failed`);
if (failures.length > 0) process.exit(1);

async function runSet(set) {
  const node = set.node === 'repo' ? join(repoRoot, 'node_modules/node/bin/node') : systemNode();
  const version = execFileSync(node, ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
  if (Number(version.split('.')[0]) !== set.nodeMajor) {
    throw new Error(`set ${set.id} is for Node.js ${set.nodeMajor}, but ${node} is ${version}`);
  }
  const dir = join(work, set.id);
  writeScratchApp(dir, set, tarball, files);
  const env = cleanEnv(node, { NO_COLOR: '1' });
  const bin = (name) => join(dir, 'node_modules/.bin', name);
  console.log(`    Node.js ${version} (${node})`);

  const install = run(
    'npm install',
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline'],
    {
      cwd: dir,
      env,
    },
  );
  const warnings = install.split('\n').filter((line) => /ERESOLVE|peer|EBADENGINE/i.test(line));
  if (warnings.length > 0) throw new Error(`npm install warned:\n${warnings.join('\n')}`);
  if (set.withoutSchedule) {
    const found = run('no @nestjs/schedule', node, ['-e', schedulePresence], {
      cwd: dir,
      env,
    }).trim();
    if (found !== 'absent')
      throw new Error(`@nestjs/schedule is installed (${found}); this set is without it`);
  }
  console.log(`    installed: ${installedVersions(node, dir, env, set)}`);

  run('tsc (Quick start)', bin('tsc'), ['-p', 'tsconfig.build.json'], { cwd: dir, env });

  const database = await createDatabase(server.url, set.id);
  try {
    const dbEnv = { ...env, DATABASE_URL: database.url };
    run('typeorm migration:run', bin('typeorm'), ['migration:run', '-d', 'dist/data-source.js'], {
      cwd: dir,
      env: dbEnv,
    });
    const migrated = await withClient(database.url, async (c) => {
      const { rows } = await c.query(
        `select count(*)::int as n from information_schema.tables where table_schema = 'jobs'`,
      );
      return rows[0].n;
    });
    if (migrated === 0) throw new Error('the TypeORM CLI created no table in schema "jobs"');
    await enqueueAndPerform(node, dir, dbEnv);
  } finally {
    await database.drop();
  }

  const jestEnv = set.jestNodeOptions ? { ...env, NODE_OPTIONS: set.jestNodeOptions } : env;
  const jest = run('jest (Testing your jobs)', bin('jest'), ['--ci'], { cwd: dir, env: jestEnv });
  if (!/Tests:\s+2 passed, 2 total/.test(jest))
    throw new Error(`jest did not pass 2 tests:\n${tail(jest)}`);

  run('ESM import', node, ['esm-check.mjs'], { cwd: dir, env });
}

/** Starts the built app, enqueues over HTTP in account "acme", waits for the job, stops the app. */
async function enqueueAndPerform(node, dir, env) {
  const t0 = Date.now();
  const port = await freePort();
  const app = start(node, ['dist/main.js'], { cwd: dir, env: { ...env, PORT: String(port) } });
  const base = `http://127.0.0.1:${port}`;
  const get = (path, account) => fetch(`${base}${path}`, { headers: { 'x-account-id': account } });
  const fail = (message) => new Error(`${message}\n--- app output ---\n${tail(app.output())}`);
  try {
    await until(
      async () => (await get('/signups/jobs/0', 'acme').catch(() => undefined))?.status === 404,
      30_000,
      () => {
        throw fail('the app did not answer HTTP within 30 s');
      },
      app,
    );

    const response = await fetch(`${base}/signups`, {
      method: 'POST',
      headers: { 'x-account-id': 'acme', 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ada@example.com' }),
    });
    const body = await response.json();
    if (response.status !== 201 || !body.jobId)
      throw fail(`POST /signups answered ${response.status} ${JSON.stringify(body)}`);

    let job;
    await until(
      async () => {
        job = await (await get(`/signups/jobs/${body.jobId}`, 'acme')).json();
        if (job.state === 'failed') throw fail(`the job failed: ${JSON.stringify(job)}`);
        return job.state === 'completed';
      },
      30_000,
      () => {
        throw fail(`the job was not completed within 30 s: ${JSON.stringify(job)}`);
      },
      app,
    );
    const expected = { accountId: 'acme', to: 'ada@example.com' };
    if (!isDeepStrictEqual(job.result, expected)) {
      throw fail(
        `the job's result is ${JSON.stringify(job.result)}, expected ${JSON.stringify(expected)}`,
      );
    }
    if (!app.output().includes('[acme] "Welcome!" to ada@example.com'))
      throw fail("the Mailer's log line for acme is missing");
    const other = await get(`/signups/jobs/${body.jobId}`, 'globex');
    if (other.status !== 404) throw fail(`another account saw the job (HTTP ${other.status})`);
  } finally {
    app.child.kill('SIGTERM');
  }
  const exit = await Promise.race([
    app.exited,
    new Promise((r) => setTimeout(() => r(undefined), 20_000).unref()),
  ]);
  if (!exit) {
    app.child.kill('SIGKILL');
    throw new Error(`the app did not stop within 20 s of SIGTERM\n${tail(app.output())}`);
  }
  // Nest's shutdown hooks close the app, then re-raise the signal.
  if (!(exit.code === 0 || exit.signal === 'SIGTERM')) {
    throw new Error(
      `the app exited with ${JSON.stringify(exit)} on SIGTERM\n${tail(app.output())}`,
    );
  }
  console.log(
    `    HTTP enqueue in account acme -> job completed in acme, hidden from globex: ok (${seconds(Date.now() - t0)})`,
  );
}

/** Polls `check` every 100 ms until it returns true; calls `onTimeout` after `ms`, or if the app exits. */
async function until(check, ms, onTimeout, app) {
  const deadline = Date.now() + ms;
  let exited;
  app.exited.then((exit) => (exited = exit));
  while (Date.now() < deadline && !exited) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  if (exited) throw new Error(`the app exited (${JSON.stringify(exited)})\n${tail(app.output())}`);
  onTimeout();
}

function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

function installedVersions(node, dir, env, set) {
  const names = Object.keys(set.dependencies).filter(
    (n) => !['pg', 'rxjs', 'reflect-metadata'].includes(n),
  );
  const script = `for (const n of ${JSON.stringify(names)}) process.stdout.write(n + '@' + require(require('path').join(process.cwd(), 'node_modules', n, 'package.json')).version + ' ')`;
  return execFileSync(node, ['-e', script], { cwd: dir, env, encoding: 'utf8' }).trim();
}
