import type * as Terminus from '@nestjs/terminus';
import { MissingDependencyError } from '../errors';

/** `@nestjs/terminus`'s exports, once loaded. */
export type TerminusPackage = typeof Terminus;

let loaded: TerminusPackage | undefined;

/**
 * `@nestjs/terminus`, required on first use. It is an optional peer: only an app that checks the jobs'
 * health with `JobsHealthIndicator` needs it (`MissingDependencyError` says how to install it).
 */
export function loadTerminusPackage(neededBy: string): TerminusPackage {
  if (loaded) return loaded;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('@nestjs/terminus') as TerminusPackage;
  } catch (error) {
    if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') throw error;
    throw new MissingDependencyError(
      '@nestjs/terminus',
      neededBy,
      'import TerminusModule in the module of your health controller',
      error,
    );
  }
  return loaded;
}
