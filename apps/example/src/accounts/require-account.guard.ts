import { BadRequestException, CanActivate, ForbiddenException, Injectable } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import { isUUID } from 'class-validator';
import { AccountsService } from './accounts.service';
import { ACCOUNT_ID_CLS_KEY, ShopClsStore } from './current-account.service';

/**
 * For tenant routes: the `X-Account-Id` header (put in CLS by the ClsModule middleware) must name an
 * existing, active account. 400 when it is missing or malformed, 403 when the account is unknown or disabled.
 */
@Injectable()
export class RequireAccountGuard implements CanActivate {
  constructor(
    private readonly cls: ClsService<ShopClsStore>,
    private readonly accounts: AccountsService,
  ) {}

  async canActivate(): Promise<boolean> {
    const accountId = this.cls.get(ACCOUNT_ID_CLS_KEY);
    if (!accountId) throw new BadRequestException('The X-Account-Id header is required.');
    if (!isUUID(accountId))
      throw new BadRequestException('The X-Account-Id header must be a UUID.');
    if (!(await this.accounts.findActive(accountId))) {
      throw new ForbiddenException(`Account ${accountId} does not exist or is disabled.`);
    }
    return true;
  }
}
