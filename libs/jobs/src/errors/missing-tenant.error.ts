import { JobsError } from './jobs.error';

/**
 * Thrown at enqueue when a tenant-scoped job is enqueued with no current account. Nothing is written.
 * Tenancy fails closed: a job that runs without its account could read or write another tenant's data.
 */
export class MissingTenantError extends JobsError {
  constructor(
    readonly jobName: string,
    clsKey: string,
  ) {
    super(
      `Job "${jobName}" is tenant-scoped but there is no current account (ClsService key "${clsKey}" is ` +
        `empty). Enqueue it inside a request or job that has an account, pass { accountId } explicitly ` +
        `from system code, or declare the job global with @Job({ tenant: 'none' }).`,
    );
  }
}
