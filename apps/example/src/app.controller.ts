import { Controller, Get, Req } from '@nestjs/common';
import type { Request } from 'express';

@Controller()
export class AppController {
  /** What this app is, and commands to try it (for the host the request came to). */
  @Get()
  describe(@Req() req: Request): { name: string; description: string; try: string[] } {
    const base = `${req.protocol}://${req.get('host') ?? 'localhost'}`;
    const json = `-H 'content-type: application/json'`;
    const tenant = `-H "x-account-id: $ACCOUNT"`;
    return {
      name: 'shop example (nestjs-tenant-jobs)',
      description:
        'A small multi-tenant shop. POST /orders enqueues a confirmation job that runs in the ' +
        'account of the request (X-Account-Id header); DELETE /admin/orders/:id audits at once and ' +
        "deletes in the background. Every 10 minutes (Tokyo time) each active account's confirmed " +
        'orders are invoiced, and at 08:00 Tokyo time each gets a daily digest. Jobs of disabled ' +
        'accounts fail instead of running.',
      try: [
        `ACCOUNT=$(curl -s -X POST ${base}/accounts ${json} -d '{"name":"Acme"}' | sed -E 's/.*"id":"([^"]+)".*/\\1/')`,
        `ORDER=$(curl -s -X POST ${base}/orders ${json} ${tenant} -d '{"item":"Teapot","quantity":2,"email":"ada@example.com"}' | sed -E 's/.*"order":\\{"id":"([^"]+)".*/\\1/')`,
        `curl -s ${base}/orders/$ORDER ${tenant}`,
        `curl -s -X POST ${base}/orders/$ORDER/confirm ${tenant}`,
        `curl -s ${base}/jobs/<jobId> ${tenant}`,
        `curl -s -X DELETE ${base}/admin/orders/$ORDER ${tenant}`,
        `curl -s -X PATCH ${base}/accounts/$ACCOUNT ${json} -d '{"active":false}'`,
      ],
    };
  }
}
