import { JobsError } from './jobs.error';

/**
 * Recorded on a job whose account no longer exists or is disabled when it comes to run (the app's
 * `tenant.resolver` said so). Never retried: the job fails at once and can be retried by hand.
 */
export class AccountUnavailableError extends JobsError {
  constructor(
    readonly accountId: string,
    reason = 'it does not exist or is not active',
  ) {
    super(`Account "${accountId}" is unavailable: ${reason}.`);
  }
}
