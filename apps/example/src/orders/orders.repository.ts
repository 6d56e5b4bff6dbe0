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
    return orders.save(orders.create({ ...fields, accountId: this.account.id, confirmedAt: null }));
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

  /** Deletes the order; `false` when the current account has no such order (e.g. already deleted). */
  async delete(id: string): Promise<boolean> {
    const result = await this.orders.delete({ id, accountId: this.account.id });
    return (result.affected ?? 0) > 0;
  }

  private repository(manager?: EntityManager): Repository<Order> {
    return manager ? manager.getRepository(Order) : this.orders;
  }
}
