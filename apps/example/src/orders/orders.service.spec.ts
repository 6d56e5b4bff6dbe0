/**
 * Unit tests of the order use cases and their jobs, without PostgreSQL: `JobsTestingModule` captures the
 * jobs the service enqueues, the orders live in an in-memory repository, the mail goes to `FakeMailer`.
 * (`test/example-app.e2e-spec.ts` runs the same flows against the real database and worker.)
 */
import { Injectable } from '@nestjs/common';
import { Test, TestingModule } from '@nestjs/testing';
import { getDataSourceToken } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { ClsModule, ClsService } from 'nestjs-cls';
import type { EntityManager } from 'typeorm';
import {
  JobsTestHelper,
  JobsTestingModule,
  JobsTestingMode,
  jobsMatchers,
} from 'nestjs-tenant-jobs/testing';
import { AuditService } from '../audit/audit.service';
import { ACCOUNT_ID_CLS_KEY, CurrentAccount } from '../accounts/current-account.service';
import { FakeMailer } from '../mailer/fake-mailer.service';
import { Mailer } from '../mailer/mailer';
import { ConfirmOrderJob } from './jobs/confirm-order.job';
import { DeleteOrderJob } from './jobs/delete-order.job';
import { Order } from './order.entity';
import { OrdersRepository } from './orders.repository';
import { OrdersService } from './orders.service';

expect.extend(jobsMatchers);

/**
 * `OrdersRepository` over an array, scoped by the current account exactly like the real one. Transactions
 * and row locks are no-ops (`manager` and `lock` are ignored).
 */
@Injectable()
class InMemoryOrdersRepository implements Pick<
  OrdersRepository,
  'create' | 'findOne' | 'save' | 'delete'
> {
  private readonly rows: Order[] = [];

  constructor(private readonly account: CurrentAccount) {}

  async create(fields: Pick<Order, 'item' | 'quantity' | 'email'>): Promise<Order> {
    const order = Object.assign(new Order(), {
      ...fields,
      id: randomUUID(),
      accountId: this.account.id,
      confirmedAt: null,
      invoicedAt: null,
      createdAt: new Date(),
    });
    this.rows.push(order);
    return copy(order);
  }

  async findOne(id: string): Promise<Order | null> {
    const row = this.rows.find((o) => o.id === id && o.accountId === this.account.id);
    return row ? copy(row) : null;
  }

  async save(order: Order): Promise<Order> {
    const index = this.rows.findIndex((o) => o.id === order.id);
    this.rows[index] = copy(order);
    return order;
  }

  async delete(id: string): Promise<boolean> {
    const index = this.rows.findIndex((o) => o.id === id && o.accountId === this.account.id);
    if (index >= 0) this.rows.splice(index, 1);
    return index >= 0;
  }
}

const copy = (order: Order): Order => Object.assign(new Order(), order);

/** Runs the callback "in a transaction": with a manager nothing here touches. */
const fakeDataSource = {
  transaction: <T>(work: (manager: EntityManager) => Promise<T>): Promise<T> =>
    work({} as EntityManager),
};

const ACME = 'acme';
const GLOBEX = 'globex';
const dto = { item: 'Teapot', quantity: 2, email: 'ada@example.com' };

async function createTestingModule(mode: JobsTestingMode): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ClsModule.forRoot({ global: true }),
      JobsTestingModule.forRoot({ mode, tenant: { clsKey: ACCOUNT_ID_CLS_KEY } }),
    ],
    providers: [
      OrdersService,
      OrdersRepository,
      AuditService,
      CurrentAccount,
      ConfirmOrderJob,
      DeleteOrderJob,
      FakeMailer,
      { provide: Mailer, useExisting: FakeMailer },
      { provide: getDataSourceToken(), useValue: fakeDataSource },
    ],
  })
    .overrideProvider(OrdersRepository)
    .useClass(InMemoryOrdersRepository)
    .overrideProvider(AuditService)
    .useValue({ record: jest.fn().mockResolvedValue(undefined) })
    .compile();
  moduleRef.useLogger(false); // FakeMailer and the jobs log every mail and skip
  await moduleRef.init(); // discovers the @Job providers
  return moduleRef;
}

describe('OrdersService with its jobs (capture mode)', () => {
  let moduleRef: TestingModule;
  let orders: OrdersService;
  let jobs: JobsTestHelper;
  let mailer: FakeMailer;
  let inAccount: <T>(accountId: string, fn: () => Promise<T>) => Promise<T>;

  beforeEach(async () => {
    moduleRef = await createTestingModule('capture');
    orders = moduleRef.get(OrdersService);
    jobs = moduleRef.get(JobsTestHelper);
    mailer = moduleRef.get(FakeMailer);
    const cls = moduleRef.get(ClsService);
    // What the app's ClsModule middleware does with the X-Account-Id header of a request.
    inAccount = (accountId, fn) =>
      cls.run(() => {
        cls.set(ACCOUNT_ID_CLS_KEY, accountId);
        return fn();
      });
  });

  afterEach(() => moduleRef.close());

  it('creating an order enqueues the confirmation job for the same account', async () => {
    const { order, jobId } = await inAccount(ACME, () => orders.place(dto));

    expect(jobs).toHaveEnqueued(ConfirmOrderJob, {
      payload: { orderId: order.id },
      accountId: ACME,
    });
    expect(jobs.enqueued()).toMatchObject([
      { id: jobId, job: ConfirmOrderJob, state: 'available' },
    ]);
    expect(mailer.sent).toEqual([]); // captured, not performed
  });

  it('performing it sends one email', async () => {
    const { order } = await inAccount(ACME, () => orders.place(dto));

    const { performed, failed } = await jobs.performEnqueued();

    expect(failed).toEqual([]);
    expect(performed).toMatchObject([{ job: ConfirmOrderJob, state: 'completed' }]);
    expect(mailer.sent).toEqual([
      expect.objectContaining({ to: dto.email, subject: `Order ${order.id} confirmed` }),
    ]);
    expect(await inAccount(ACME, () => orders.find(order.id))).toMatchObject({
      confirmedAt: expect.any(Date),
    });
  });

  it('confirming again sends no second email', async () => {
    const { order } = await inAccount(ACME, () => orders.place(dto));
    await jobs.performEnqueued();

    await inAccount(ACME, () => orders.requestConfirmation(order.id));
    const { performed } = await jobs.performEnqueued();

    expect(performed).toMatchObject([{ result: { skipped: 'already-confirmed' } }]);
    expect(mailer.sent).toHaveLength(1);
  });

  it('a confirmation requested from another account cannot reach the order', async () => {
    const { order } = await inAccount(ACME, () => orders.place(dto));
    jobs.clear(); // drop ACME's own confirmation: only GLOBEX's request is under test

    await inAccount(GLOBEX, () => orders.requestConfirmation(order.id));
    jobs.expectEnqueued(ConfirmOrderJob, { accountId: GLOBEX });
    const { performed } = await jobs.performEnqueued();

    expect(performed).toMatchObject([
      { accountId: GLOBEX, result: { skipped: 'order-not-found' } },
    ]);
    expect(mailer.sent).toEqual([]);
  });

  it('requesting a deletion enqueues the deletion job; performing it deletes the order', async () => {
    const { order } = await inAccount(ACME, () => orders.place(dto));

    const jobId = await inAccount(ACME, () => orders.requestDeletion(order.id));

    expect(moduleRef.get(AuditService).record).toHaveBeenCalledWith(
      'order.deletion-requested',
      order.id,
      expect.anything(),
    );
    jobs.expectEnqueued(DeleteOrderJob, { payload: { orderId: order.id }, accountId: ACME });
    await jobs.performEnqueued({ only: DeleteOrderJob });
    expect(jobs.enqueued({ job: DeleteOrderJob })).toMatchObject([
      { id: jobId, state: 'completed', result: { deleted: true } },
    ]);
    expect(await inAccount(ACME, () => orders.find(order.id))).toBeNull();

    // The confirmation still queued finds no order and mails nobody.
    const { performed } = await jobs.performEnqueued();
    expect(performed).toMatchObject([{ result: { skipped: 'order-not-found' } }]);
    expect(mailer.sent).toEqual([]);
  });

  it('requesting the deletion of an unknown order enqueues nothing', async () => {
    expect(await inAccount(ACME, () => orders.requestDeletion(randomUUID()))).toBeNull();
    expect(jobs).not.toHaveEnqueued(DeleteOrderJob);
  });
});

describe('OrdersService with its jobs (inline mode)', () => {
  it('placing an order confirms it and mails the customer before place() returns', async () => {
    const moduleRef = await createTestingModule('inline');
    const cls = moduleRef.get(ClsService);

    const { order } = await cls.run(() => {
      cls.set(ACCOUNT_ID_CLS_KEY, ACME);
      return moduleRef.get(OrdersService).place(dto);
    });

    expect(moduleRef.get(FakeMailer).sent).toEqual([
      expect.objectContaining({ to: dto.email, subject: `Order ${order.id} confirmed` }),
    ]);
    expect(moduleRef.get(JobsTestHelper).enqueued()).toMatchObject([
      { job: ConfirmOrderJob, accountId: ACME, state: 'completed' },
    ]);
    await moduleRef.close();
  });
});
