/** Child processes of the consumer test: an environment free of the repository's tools, and runners. */
import { spawn, spawnSync } from 'node:child_process';
import { delimiter, dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

/**
 * The caller's environment without what npm scripts add (npm_* variables, node_modules/.bin folders on
 * PATH, NODE_OPTIONS), with `node`'s folder first on PATH: the scratch app then runs on that Node.js,
 * with its own tools and the machine's npm, as in a user's shell.
 */
export function cleanEnv(node, extra = {}) {
  const env = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^npm_/i.test(key) || key === 'NODE_OPTIONS' || key === 'INIT_CWD') continue;
    env[key] = value;
  }
  env.PATH = [dirname(node), ...cleanPath()].join(delimiter);
  return { ...env, ...extra };
}

/** PATH without node_modules folders (npm's .bin folders of this repository, npm's node-gyp-bin). */
export function cleanPath() {
  return (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir && !dir.includes('node_modules'));
}

/** The first `node` on the clean PATH: the machine's own Node.js. */
export function systemNode() {
  for (const dir of cleanPath()) {
    if (existsSync(join(dir, 'node'))) return join(dir, 'node');
  }
  throw new Error('No node on PATH outside node_modules (the machine has no Node.js of its own?)');
}

/** Runs a command to completion; throws with its output when it fails. Returns the output. */
export function run(label, command, args, { cwd, env, timeoutMs = 240_000 }) {
  const started = Date.now();
  const result = spawnSync(command, args, {
    cwd,
    env,
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
  if (result.error || result.status !== 0) {
    throw new Error(
      `${label} failed (${result.error?.message ?? `exit ${result.status}`}): ${command} ${args.join(' ')}\n${tail(output)}`,
    );
  }
  console.log(`    ${label}: ok (${seconds(Date.now() - started)})`);
  return output;
}

/** Starts a long-running process; its output accumulates in `output()`. */
export function start(command, args, { cwd, env }) {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  const exited = new Promise((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited, output: () => output };
}

export function tail(text, lines = 60) {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
