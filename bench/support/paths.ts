/**
 * Resolves the `nestjs-tenant-jobs` alias for the compiled bench (bench/.work/build): the paths of the repository's
 * tsconfig.json, against the build directory. Imported first by run.ts and worker.ts.
 */
import { resolve } from 'node:path';
import { loadConfig, register } from 'tsconfig-paths';

/** bench/.work/build/bench/support → bench/.work/build */
const BUILD_ROOT = resolve(__dirname, '..', '..');
export const REPO_ROOT = resolve(BUILD_ROOT, '..', '..', '..');

const config = loadConfig(REPO_ROOT);
if (config.resultType === 'failed') throw new Error(`tsconfig.json: ${config.message}`);
register({ baseUrl: BUILD_ROOT, paths: config.paths });
