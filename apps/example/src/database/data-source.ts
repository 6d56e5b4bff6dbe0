import type { DataSourceOptions } from 'typeorm';
import { jobsMigrations } from 'nestjs-tenant-jobs';
import { Account } from '../accounts/account.entity';
import { AuditLog } from '../audit/audit-log.entity';
import { appMigrations } from '../migrations';
import { Order } from '../orders/order.entity';

export type PostgresOptions = Extract<DataSourceOptions, { type: 'postgres' }>;

export const entities = [Account, Order, AuditLog];

/** The library's migrations (schema `jobs`) first, then the app's. */
export const migrations = [...jobsMigrations, ...appMigrations];

/**
 * TypeORM options shared by the app (`TypeOrmModule`) and the migration CLI (`ormconfig.ts`), so both
 * see the same entities and migrations.
 */
export function dataSourceOptions(url: string): PostgresOptions {
  return { type: 'postgres', url, entities, migrations, synchronize: false };
}
