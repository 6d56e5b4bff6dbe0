import type { MigrationInterface } from 'typeorm';
import { AddOrdersInvoicedAt1795359725901 } from './add-orders-invoiced-at.migration';
import { CreateAccounts1763900000000 } from './create-accounts.migration';
import { CreateAuditLogs1763900002000 } from './create-audit-logs.migration';
import { CreateOrders1763900001000 } from './create-orders.migration';

/** The app's own migrations, oldest first. Run after `jobsMigrations` (see `database/data-source.ts`). */
export const appMigrations: Array<new () => MigrationInterface> = [
  CreateAccounts1763900000000,
  CreateOrders1763900001000,
  CreateAuditLogs1763900002000,
  AddOrdersInvoicedAt1795359725901,
];
