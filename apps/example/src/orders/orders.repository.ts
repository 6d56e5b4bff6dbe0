import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { CurrentAccount } from '../accounts/current-account.service';
import { Order } from './order.entity';

interface QueryOptions {
  /** Run in this transaction. */
  manager?: EntityManager;
  /** Lock the row (`for update`) until the transaction ends; requires `manager`. */
  lock?: boolean;
}

/**
 * Orders of the current account only: every query is filtered by the account in CLS, so neither a
 * request nor a job can reach another tenant's orders, whatever order id it was given.
 */
@Injectable()
export class OrdersRepository {
  constructor(
    @InjectRepository(Order) private readonly orders: Repository<Order>,
    private readonly account: CurrentAccount,
  ) {}

  create(
    fields: Pick<Order, 'item' | 'quantity' | 'email'>,
    manager?: EntityManager,
  ): Promise<Order> {
    const orders = this.repository(manager);
    return orders.save(
      orders.create({ ...fields, accountId: this.account.id, confirmedAt: null, invoicedAt: null }),
    );
  }

  /**
   * Creates the order with this id in the current account unless it exists (a retried import row).
   * An id taken by another account's order is left alone too: nothing of that account is read or changed.
   */
  async createIfAbsent(
    id: string,
    fields: Pick<Order, 'item' | 'quantity' | 'email'>,
    manager?: EntityManager,
  ): Promise<void> {
    await this.repository(manager)
      .createQueryBuilder()
      .insert()
      .values({ ...fields, id, accountId: this.account.id, confirmedAt: null, invoicedAt: null })
      .orIgnore()
      .execute();
  }

  findOne(id: string, { manager, lock }: QueryOptions = {}): Promise<Order | null> {
    return this.repository(manager).findOne({
      where: { id, accountId: this.account.id },
      lock: lock ? { mode: 'pessimistic_write' } : undefined,
    });
  }

  save(order: Order, manager?: EntityManager): Promise<Order> {
    return this.repository(manager).save(order);
  }

  /**
   * Locks the oldest confirmed order that has no invoice yet, skipping rows another transaction holds
   * (`for update skip locked`), so concurrent invoice runs each take different orders. Requires `manager`
   * (a transaction); the row stays locked until it ends. `null` when none is left.
   */
  lockNextUninvoiced(manager: EntityManager): Promise<Order | null> {
    return manager
      .getRepository(Order)
      .createQueryBuilder('o')
      .setLock('pessimistic_write')
      .setOnLocked('skip_locked')
      .where('o.account_id = :accountId', { accountId: this.account.id })
      .andWhere('o.confirmed_at is not null')
      .andWhere('o.invoiced_at is null')
      .orderBy('o.confirmed_at', 'ASC')
      .addOrderBy('o.id', 'ASC')
      .limit(1)
      .getOne();
  }

  /** Records that the order's invoice was sent (database clock). */
  async markInvoiced(id: string, manager?: EntityManager): Promise<void> {
    await this.repository(manager).update(
      { id, accountId: this.account.id },
      { invoicedAt: () => 'now()' },
    );
  }

  /** The orders created in the last `hours` hours (database clock), oldest first. */
  createdInLast(hours: number): Promise<Order[]> {
    return this.orders
      .createQueryBuilder('o')
      .where('o.account_id = :accountId', { accountId: this.account.id })
      .andWhere('o.created_at > now() - make_interval(hours => :hours)', { hours })
      .orderBy('o.created_at', 'ASC')
      .addOrderBy('o.id', 'ASC')
      .getMany();
  }

  /** Deletes the order; `false` when the current account has no such order (e.g. already deleted). */
  async delete(id: string): Promise<boolean> {
    const result = await this.orders.delete({ id, accountId: this.account.id });
    return (result.affected ?? 0) > 0;
  }

  private repository(manager?: EntityManager): Repository<Order> {
    return manager ? manager.getRepository(Order) : this.orders;
  }
}
