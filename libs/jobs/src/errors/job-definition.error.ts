import { JobsError } from './jobs.error';

/**
 * Thrown at startup when a `@Job` class cannot be registered: a duplicate name, a missing `perform`, a
 * request-scoped provider. The message names the classes involved and the fix.
 */
export class JobDefinitionError extends JobsError {
  static duplicateName(name: string, first: string, second: string): JobDefinitionError {
    return new JobDefinitionError(
      `Two jobs are named "${name}": ${first} and ${second}. Job names are stored with every job, so they ` +
        `must be unique; rename one of them in its @Job({ name }) options.`,
    );
  }

  static missingPerform(className: string): JobDefinitionError {
    return new JobDefinitionError(
      `${className} is decorated with @Job but has no perform(payload, ctx) method. Implement JobHandler.`,
    );
  }

  static requestScoped(className: string): JobDefinitionError {
    return new JobDefinitionError(
      `${className} is a request-scoped (or transient) provider. Jobs run outside any HTTP request, so a job ` +
        `provider must be a singleton: remove "scope" from its @Injectable/@Job options and read ` +
        `per-job state from the JobContext or from ClsService instead.`,
    );
  }

  static notRegistered(className: string): JobDefinitionError {
    return new JobDefinitionError(
      `${className} is not a registered job. Decorate it with @Job({ name }) and list it in the providers ` +
        `of a module the application imports.`,
    );
  }
}
