import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { timingSafeEqual } from 'node:crypto';

/** The admin token: `ADMIN_TOKEN`, or this development default (set a real one anywhere else). */
export const adminToken = (): string => process.env.ADMIN_TOKEN ?? 'dev-admin-token';

const COOKIE = 'admin_token';

/**
 * The example's admin guard for `/admin/jobs`: the token in an `x-admin-token` header, or once in the URL
 * (`?token=…`, which sets an HttpOnly cookie so the pages and forms that follow need nothing more).
 * A stand-in for a real login.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const req = http.getRequest<Request>();
    const given =
      req.header('x-admin-token') ?? queryToken(req) ?? cookieValue(req.headers.cookie, COOKIE);
    if (!given || !sameText(given, adminToken())) {
      throw new UnauthorizedException('Admin token required (x-admin-token header or ?token=).');
    }
    if (queryToken(req)) {
      http
        .getResponse<Response>()
        .cookie(COOKIE, given, { httpOnly: true, sameSite: 'strict', path: '/admin/jobs' });
    }
    return true;
  }
}

function queryToken(req: Request): string | undefined {
  return typeof req.query.token === 'string' ? req.query.token : undefined;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** One cookie's value from a Cookie header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=');
    if (key === name) return decodeURIComponent(value.join('='));
  }
  return undefined;
}
