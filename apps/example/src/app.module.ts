import { DynamicModule, Module, Provider, ValidationPipe } from '@nestjs/common';
import { APP_PIPE } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { Request } from 'express';
import { ClsModule } from 'nestjs-cls';
import { JobsDashboardModule, JobsModule } from 'nestjs-tenant-jobs';
import { AccountsModule } from './accounts/accounts.module';
import { AccountsResolver } from './accounts/accounts.resolver';
import { ActiveAccountsSource } from './accounts/active-accounts.source';
import { ACCOUNT_ID_CLS_KEY } from './accounts/current-account.service';
import { AppController } from './app.controller';
import { AuditModule } from './audit/audit.module';
import { dataSourceOptions } from './database/data-source';
import type { EmbeddedPostgresServer } from './database/embedded-postgres';
import { EMBEDDED_POSTGRES, EmbeddedPostgresShutdown } from './database/embedded-postgres.shutdown';
import { DigestModule } from './digest/digest.module';
import { InvoicesModule } from './invoices/invoices.module';
import { JobsApiModule } from './jobs/jobs-api.module';
import { MailerModule } from './mailer/mailer.module';
import { ObservabilityModule } from './observability/observability.module';
import { OrdersModule } from './orders/orders.module';
import { AccountDashboardGuard } from './dashboard/account-dashboard.guard';
import { AdminTokenGuard } from './dashboard/admin-token.guard';

export interface AppModuleOptions {
  /** `postgres://…` URL of the app's database. Migrations (the jobs library's and the app's) run at startup. */
  databaseUrl: string;
  /** The embedded server `main.ts` started when no DATABASE_URL was given; stopped on shutdown. */
  embeddedPostgres?: EmbeddedPostgresServer;
}

@Module({})
export class AppModule {
  static forRoot({ databaseUrl, embeddedPostgres }: AppModuleOptions): DynamicModule {
    const shutdown: Provider[] = embeddedPostgres
      ? [{ provide: EMBEDDED_POSTGRES, useValue: embeddedPostgres }, EmbeddedPostgresShutdown]
      : [];
    return {
      module: AppModule,
      imports: [
        ClsModule.forRoot({
          global: true,
          middleware: {
            mount: true,
            setup: (cls, req: Request) => cls.set(ACCOUNT_ID_CLS_KEY, req.header('x-account-id')),
          },
        }),
        TypeOrmModule.forRootAsync({
          useFactory: () => ({ ...dataSourceOptions(databaseUrl), migrationsRun: true }),
        }),
        // Runs the recurring schedules (@Recurring on SendPendingInvoicesJob and SendDailyDigestJob).
        ScheduleModule.forRoot(),
        JobsModule.forRoot({
          tenant: {
            clsKey: ACCOUNT_ID_CLS_KEY,
            resolver: AccountsResolver,
            // perAccount schedules fan out to the active accounts.
            accounts: ActiveAccountsSource,
          },
          worker: { concurrency: 5 },
        }),
        AccountsModule,
        AuditModule,
        MailerModule,
        OrdersModule,
        InvoicesModule,
        DigestModule,
        JobsApiModule,
        // The jobs dashboard: every job for admins, and each account's own jobs for the account.
        JobsDashboardModule.forRoot({ path: '/admin/jobs', guard: AdminTokenGuard }),
        JobsDashboardModule.forRoot({
          path: '/account/jobs',
          guard: AccountDashboardGuard,
          scope: 'account',
        }),
        ObservabilityModule,
      ],
      controllers: [AppController],
      providers: [
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({
            whitelist: true,
            forbidNonWhitelisted: true,
            transform: true,
          }),
        },
        ...shutdown,
      ],
    };
  }
}
