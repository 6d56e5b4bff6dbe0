import { JobsError } from './jobs.error';

/**
 * Thrown by `JobFlowControl.pauseAccount` / `resumeAccount` when called inside one account's CLS context
 * for another account. Nothing is changed. Tenancy fails closed: code serving account A must not stop (or
 * start) account B's jobs; pausing other accounts is system or admin code, run outside any account.
 */
export class ForeignAccountError extends JobsError {
  constructor(
    /** The operation, e.g. `pauseAccount`. */
    readonly operation: string,
    /** The account asked for. */
    readonly accountId: string,
    /** The account of the current CLS context. */
    readonly currentAccountId: string,
    clsKey: string,
  ) {
    super(
      `${operation}("${accountId}") was called inside account "${currentAccountId}"'s context ` +
        `(ClsService key "${clsKey}"): an account may pause or resume only its own jobs. Call it from ` +
        `system or admin code outside any account's context (e.g. cls.run(() => …) without setting ` +
        `"${clsKey}"), or pass the current account.`,
    );
  }
}
