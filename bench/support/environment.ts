/** What the figures were measured on: machine, Node, PostgreSQL, Redis and the package versions. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { serverInfo } from './database';
import { redisVersion } from './redis';

export interface Environment {
  cores: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  /** How Node was provided, for the report (BENCHMARK.md asks to say). */
  nodeSource: string;
  postgres: { version: string; settings: Record<string, string> };
  redis: string;
  packages: Record<string, string>;
  /** The library measured: repository commit, and whether libs/jobs had uncommitted changes. */
  library: string;
}

const PACKAGES = [
  'graphile-worker',
  'pg-boss',
  'bullmq',
  'ioredis',
  'pg',
  'typeorm',
  '@nestjs/core',
  'nestjs-cls',
  'class-validator',
];

export async function describeEnvironment(): Promise<Environment> {
  const cpuList = cpus();
  return {
    cores: cpuList.length,
    cpuModel: cpuList[0]?.model ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    nodeSource: process.execPath.includes('node_modules')
      ? 'npm package `node` (devDependency)'
      : process.execPath,
    postgres: await serverInfo(),
    redis: await redisVersion(),
    packages: Object.fromEntries(PACKAGES.map((p) => [p, packageVersion(p)])),
    library: libraryRevision(),
  };
}

function libraryRevision(): string {
  try {
    const git = (...args: string[]) => execFileSync('git', args, { encoding: 'utf8' }).trim();
    const commit = git('rev-parse', '--short', 'HEAD');
    const dirty = git('status', '--porcelain', '--', 'libs/jobs') !== '';
    return `commit ${commit}${dirty ? ' + uncommitted changes in libs/jobs' : ''}`;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function packageVersion(name: string): string {
  try {
    const file = join(process.cwd(), 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}
