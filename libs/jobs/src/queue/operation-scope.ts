import { InvalidArgumentError } from '../errors';
import type { OperationScope } from '../interfaces';
import type { AccountFilter } from '../persistence/job-store';
import type { TenantContext } from '../tenancy/tenant-context';
import { normalizeAccountId } from '../values';

/**
 * The accounts an operation of `JobQueueService` acts on, as the store's `AccountFilter`:
 *
 * - `{ accountId }`: that account only, from anywhere (normalized by the enqueue's rule, so `42` and
 *   `'42'` are one account; an object or a blank string throws `InvalidAccountIdError`);
 * - `{ allAccounts: true }`: every account and the global jobs, even inside an account's context;
 * - neither: the current account when there is one (a request, a tenant job), else every account
 *   (system code). Code running for a tenant therefore cannot reach another tenant's jobs by accident:
 *   crossing tenants takes an explicit option.
 *
 * Both at once is a contradiction and throws `InvalidArgumentError` naming the operation. `allAccounts`
 * other than `true` (a JavaScript caller's `false`) is the same as leaving it out.
 */
export function resolveOperationScope(
  operation: string,
  scope: OperationScope | undefined,
  tenancy: TenantContext,
): AccountFilter {
  const accountId = scope?.accountId;
  const allAccounts = scope?.allAccounts === true;
  if (accountId !== undefined && accountId !== null) {
    if (allAccounts) {
      throw new InvalidArgumentError(
        operation,
        'allAccounts',
        'cannot be combined with accountId: pass { accountId } for one account, or ' +
          '{ allAccounts: true } for every account.',
      );
    }
    return normalizeAccountId(accountId, { from: 'option', option: 'accountId' }) ?? null;
  }
  if (allAccounts) return null;
  return tenancy.currentAccountId() ?? null;
}
