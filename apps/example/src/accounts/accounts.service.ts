import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { isUUID } from 'class-validator';
import { Repository } from 'typeorm';
import { Account } from './account.entity';

/** Accounts are not tenant-scoped: they are the tenants. */
@Injectable()
export class AccountsService {
  constructor(@InjectRepository(Account) private readonly accounts: Repository<Account>) {}

  create(name: string): Promise<Account> {
    return this.accounts.save(this.accounts.create({ name, active: true }));
  }

  /** The account, or `null` when the id is unknown (or not a UUID at all). */
  find(id: string): Promise<Account | null> {
    if (!isUUID(id)) return Promise.resolve(null);
    return this.accounts.findOneBy({ id });
  }

  /** The account if it exists and is active, else `null`. */
  async findActive(id: string): Promise<Account | null> {
    const account = await this.find(id);
    return account?.active ? account : null;
  }

  /** Ids of the active accounts, oldest first. */
  async activeIds(): Promise<string[]> {
    const rows = await this.accounts.find({
      select: { id: true },
      where: { active: true },
      order: { createdAt: 'ASC', id: 'ASC' },
    });
    return rows.map((account) => account.id);
  }

  async setActive(id: string, active: boolean): Promise<Account | null> {
    const account = await this.find(id);
    if (!account) return null;
    account.active = active;
    return this.accounts.save(account);
  }
}
