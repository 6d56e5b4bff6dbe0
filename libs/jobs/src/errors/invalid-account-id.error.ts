import { JobsError } from './jobs.error';

/**
 * Where an account id came from: the ClsService key the app fills (`tenant.clsKey`), or the explicit
 * `accountId` option of an enqueue or an operation (`option` names it, e.g. `[3].accountId`).
 */
export type AccountIdSource = { from: 'cls'; clsKey: string } | { from: 'option'; option?: string };

/**
 * Thrown at enqueue, at CLS capture and by operations when an account id is not a non-blank string or a
 * safe integer (an object, an array, NaN, a boolean, a blank string, …). Nothing is written. Accepting
 * such values would merge tenants: `{ id: 1 }` and `{ id: 2 }` both stringify to `[object Object]`.
 */
export class InvalidAccountIdError extends JobsError {
  constructor(
    readonly source: AccountIdSource,
    /** What is wrong, e.g. `got an object`; never the raw value (it may not be storable). */
    readonly problem: string,
    readonly jobName?: string,
  ) {
    super(
      `Invalid account id ${where(source)}${jobName === undefined ? '' : ` for job "${jobName}"`}: ` +
        `${problem} Account ids must be non-blank strings without surrounding whitespace (or safe ` +
        `integers, used as their decimal string). ${fix(source)}`,
    );
  }
}

function where(source: AccountIdSource): string {
  return source.from === 'cls'
    ? `in ClsService key "${source.clsKey}" (tenant.clsKey)`
    : `in option "${source.option ?? 'accountId'}"`;
}

function fix(source: AccountIdSource): string {
  return source.from === 'cls'
    ? `Store the account's id in CLS, not the account itself: cls.set('${source.clsKey}', account.id).`
    : `Pass the account's id itself: { accountId: account.id }.`;
}
