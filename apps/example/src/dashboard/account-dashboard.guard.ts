import { BadRequestException, CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { isUUID } from 'class-validator';
import type { Request, Response } from 'express';
import { ClsService } from 'nestjs-cls';
import { ACCOUNT_ID_CLS_KEY, ShopClsStore } from '../accounts/current-account.service';
import { cookieValue } from './admin-token.guard';

const COOKIE = 'account_id';

/**
 * The example's guard for the tenant view at `/account/jobs` (scoped to the current account): the
 * account is the request's `X-Account-Id` (already in CLS, put there by the ClsModule middleware), or
 * for a browser `?account_id=<id>` once, remembered in a cookie. A real app takes it from its session; the
 * dashboard then shows that account's jobs only.
 */
@Injectable()
export class AccountDashboardGuard implements CanActivate {
  constructor(private readonly cls: ClsService<ShopClsStore>) {}

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const fromQuery = typeof req.query.account_id === 'string' ? req.query.account_id : undefined;
    const accountId =
      this.cls.get(ACCOUNT_ID_CLS_KEY) ?? fromQuery ?? cookieValue(req.headers.cookie, COOKIE);
    if (!accountId || !isUUID(accountId)) {
      throw new BadRequestException(
        'An account is required: X-Account-Id header or ?account_id=<uuid>.',
      );
    }
    this.cls.set(ACCOUNT_ID_CLS_KEY, accountId);
    if (fromQuery) {
      http
        .getResponse<Response>()
        .cookie(COOKIE, accountId, { httpOnly: true, sameSite: 'strict', path: '/account/jobs' });
    }
    return true;
  }
}
