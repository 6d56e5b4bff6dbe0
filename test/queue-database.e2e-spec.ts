/**
 * The jobs tables in a database of their own (Solid Queue's `connects_to`): the app's default DataSource
 * on database X, a DataSource named `jobs` on database Y, and `JobsModule.forRoot({ dataSourceName:
 * 'jobs' })`. Migrations, enqueues and the worker use Y only. An enqueue inside a transaction of X
 * (an explicit manager, or the active `@nestjs-cls/transactional` one) cannot commit with it, so it is
 * refused with `CrossDatabaseTransactionError` and writes nothing; a manager of Y still enqueues
 * atomically.
 */
import { ClsPluginTransactional, TransactionHost } from '@nestjs-cls/transactional';
import { TransactionalAdapterTypeOrm } from '@nestjs-cls/transactional-adapter-typeorm';
import { TestingModule } from '@nestjs/testing';
import { getDataSourceToken, TypeOrmModule } from '@nestjs/typeorm';
import { IsInt } from 'class-validator';
import { ClsModule } from 'nestjs-cls';
import { DataSource } from 'typeorm';
import {
  CrossDatabaseTransactionError,
  Job,
  JobContext,
  JobHandler,
  JobQueueService,
  JobsModule,
} from 'nestjs-tenant-jobs';
import { createTestDatabase, schemaExists, TestDatabase, withClient } from './support/database';
import { startTestApp } from './support/jobs-app';
import { waitForJobState } from './support/jobs';

class OrderPayload {
  @IsInt() orderId: number;
}

const performed: string[] = [];

@Job({ name: 'orders.confirm', payload: OrderPayload, tenant: 'none' })
class ConfirmOrderJob implements JobHandler<OrderPayload> {
  perform(_payload: OrderPayload, ctx: JobContext): void {
    performed.push(ctx.id);
  }
}

describe('jobs in a database of their own (dataSourceName)', () => {
  let appDb: TestDatabase;
  let queueDb: TestDatabase;
  let app: TestingModule;
  let jobs: JobQueueService;
  let appDs: DataSource;
  let jobsDs: DataSource;

  beforeAll(async () => {
    [appDb, queueDb] = await Promise.all([createTestDatabase(), createTestDatabase()]);
    app = await startTestApp({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: appDb.url, extra: { max: 4 } }),
        TypeOrmModule.forRoot({
          name: 'jobs',
          type: 'postgres',
          url: queueDb.url,
          extra: { max: 4 },
        }),
        ClsModule.forRoot({
          global: true,
          plugins: [
            new ClsPluginTransactional({
              imports: [TypeOrmModule],
              adapter: new TransactionalAdapterTypeOrm({ dataSourceToken: getDataSourceToken() }),
            }),
          ],
        }),
        JobsModule.forRoot({
          dataSourceName: 'jobs',
          runMigrations: true,
          worker: { pollIntervalMs: 100 },
        }),
      ],
      providers: [ConfirmOrderJob],
    });
    jobs = app.get(JobQueueService);
    appDs = app.get(getDataSourceToken());
    jobsDs = app.get(getDataSourceToken('jobs'));
    await appDs.query('create table orders (id int primary key)');
  });

  afterAll(async () => {
    await app?.close();
    await Promise.all([appDb?.drop(), queueDb?.drop()]);
  });

  const jobCount = () =>
    withClient(queueDb.url, async (c) => {
      const { rows } = await c.query<{ n: number }>('select count(*)::int as n from jobs.jobs');
      return rows[0].n;
    });

  it('migrates the jobs database only, and enqueues and performs there', async () => {
    expect(await schemaExists(queueDb.url, 'jobs')).toBe(true);
    expect(await schemaExists(appDb.url, 'jobs')).toBe(false);
    const id = await jobs.performLater(ConfirmOrderJob, { orderId: 1 });
    await waitForJobState(jobs, id, 'completed');
    expect(performed).toContain(id);
  });

  it("refuses an enqueue inside the app database's transaction, naming the fix; the app's transaction is untouched", async () => {
    const before = await jobCount();
    let refused: unknown;
    await appDs.transaction(async (manager) => {
      await manager.query('insert into orders (id) values (2)');
      refused = await jobs
        .performLater(ConfirmOrderJob, { orderId: 2 }, { manager })
        .catch((error: unknown) => error);
    });
    expect(refused).toBeInstanceOf(CrossDatabaseTransactionError);
    expect(refused).toMatchObject({
      jobName: 'orders.confirm',
      transactionDataSource: 'default',
      jobsDataSource: 'jobs',
    });
    expect((refused as Error).message).toMatch(/after the transaction commits/);
    expect(await jobCount()).toBe(before);
    expect(await appDs.query('select id from orders where id = 2')).toEqual([{ id: 2 }]);
  });

  it('refuses the active @nestjs-cls/transactional transaction of the app database too; withoutTransaction enqueues now', async () => {
    const txHost = app.get(TransactionHost);
    const before = await jobCount();
    await expect(
      txHost.withTransaction(() => jobs.performLater(ConfirmOrderJob, { orderId: 3 })),
    ).rejects.toBeInstanceOf(CrossDatabaseTransactionError);
    expect(await jobCount()).toBe(before);

    const id = await txHost.withTransaction(() =>
      txHost.withoutTransaction(() => jobs.performLater(ConfirmOrderJob, { orderId: 4 })),
    );
    await waitForJobState(jobs, id, 'completed');
  });

  it("a manager of the jobs database's DataSource still enqueues atomically", async () => {
    const committed = await jobsDs.transaction((manager) =>
      jobs.performLater(ConfirmOrderJob, { orderId: 5 }, { manager }),
    );
    let rolledBack = '';
    await expect(
      jobsDs.transaction(async (manager) => {
        rolledBack = await jobs.performLater(ConfirmOrderJob, { orderId: 6 }, { manager });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    await waitForJobState(jobs, committed, 'completed');
    expect(await jobs.find(rolledBack)).toBeNull();
  });
});
