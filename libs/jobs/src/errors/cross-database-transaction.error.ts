import { JobsError } from './jobs.error';

/**
 * An enqueue inside a transaction of another database than the jobs tables' (the jobs module uses a
 * DataSource of its own, `dataSourceName`, and the transaction, an explicit `manager` or an active
 * `@nestjs-cls/transactional` one, belongs to the app's). Two databases cannot commit together: the job
 * would stay enqueued after a rollback, or be enqueued before the data it refers to is visible. Nothing
 * was written. Enqueue after the transaction commits, or keep the jobs tables in the app's database to
 * enqueue atomically.
 */
export class CrossDatabaseTransactionError extends JobsError {
  constructor(
    /** The job being enqueued. */
    readonly jobName: string,
    /** The DataSource of the caller's transaction. */
    readonly transactionDataSource: string,
    /** The DataSource of the jobs tables (JobsModule's `dataSourceName`). */
    readonly jobsDataSource: string,
  ) {
    super(
      `Cannot enqueue job "${jobName}" inside a transaction of DataSource "${transactionDataSource}": ` +
        `the jobs tables are in DataSource "${jobsDataSource}", another database, so the job could not ` +
        `commit or roll back with that transaction. Nothing was enqueued. Enqueue after the transaction ` +
        `commits (with @nestjs-cls/transactional, inside TransactionHost.withoutTransaction(() => …)), ` +
        `pass a manager of DataSource "${jobsDataSource}", or keep the jobs tables in the app's database ` +
        `to enqueue atomically.`,
    );
  }
}
