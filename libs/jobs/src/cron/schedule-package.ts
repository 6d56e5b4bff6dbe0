import type * as Schedule from '@nestjs/schedule';
import { MissingDependencyError } from '../errors';

/** `@nestjs/schedule`'s exports, once loaded. */
export type SchedulePackage = typeof Schedule;

let loaded: SchedulePackage | undefined;

/**
 * `@nestjs/schedule`, required on first use. It is an optional peer: an app without recurring jobs or
 * `oncePerTick` never loads it, so it need not be installed. `neededBy` names the feature for the error
 * (`MissingDependencyError`) thrown when it is missing.
 */
export function loadSchedulePackage(neededBy: string): SchedulePackage {
  if (loaded) return loaded;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    loaded = require('@nestjs/schedule') as SchedulePackage;
  } catch (error) {
    if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') throw error;
    throw new MissingDependencyError(
      '@nestjs/schedule',
      neededBy,
      'import ScheduleModule.forRoot() in the app module',
      error,
    );
  }
  return loaded;
}
