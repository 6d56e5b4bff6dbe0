import { Injectable } from '@nestjs/common';
import { ClsService, ClsStore } from 'nestjs-cls';

/** The ClsService key holding the current account id (set from the `X-Account-Id` header, or by the jobs worker). */
export const ACCOUNT_ID_CLS_KEY = 'accountId';

/** What this app keeps in CLS. */
export interface ShopClsStore extends ClsStore {
  [ACCOUNT_ID_CLS_KEY]?: string;
}

/**
 * The account the current request or job acts for. Services read it here (never from a request body or
 * a job payload), so every query they run is confined to one tenant.
 */
@Injectable()
export class CurrentAccount {
  constructor(private readonly cls: ClsService<ShopClsStore>) {}

  /** The current account id; throws when there is none (a route or job without a tenant reached tenant code). */
  get id(): string {
    const id = this.cls.isActive() ? this.cls.get(ACCOUNT_ID_CLS_KEY) : undefined;
    if (!id) throw new Error('No current account: this code must run in a tenant request or job.');
    return id;
  }
}
