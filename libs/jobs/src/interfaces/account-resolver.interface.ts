/**
 * Optional app-provided check run before every tenant-scoped job performs. Return the account (any
 * truthy value; it is stored in CLS under `tenant.accountClsKey` when that is set) or `null`/`undefined`/
 * `false` when the account no longer exists or is disabled: the job then fails with
 * `AccountUnavailableError` and is not retried. Throw `AccountUnavailableError` yourself for a custom reason.
 */
export interface AccountResolver {
  resolve(accountId: string): Promise<unknown> | unknown;
}
