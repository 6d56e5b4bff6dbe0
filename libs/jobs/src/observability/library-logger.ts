import { Logger, type LoggerService } from '@nestjs/common';

/**
 * A logger for one part of the library: the module's `logger` option with `context` passed along (as
 * Nest's ConsoleLogger reads it), or Nest's `Logger` for that context.
 */
export function libraryLogger(custom: LoggerService | undefined, context: string): LoggerService {
  if (!custom) return new Logger(context);
  return {
    log: (message: unknown) => custom.log(message, context),
    error: (message: unknown) => custom.error(message, context),
    warn: (message: unknown) => custom.warn(message, context),
    debug: (message: unknown) => custom.debug?.(message, context),
    verbose: (message: unknown) => custom.verbose?.(message, context),
  };
}
