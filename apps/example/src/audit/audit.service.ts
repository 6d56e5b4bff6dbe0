import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { CurrentAccount } from '../accounts/current-account.service';
import { AuditLog } from './audit-log.entity';

export type AuditAction = 'order.deletion-requested';

@Injectable()
export class AuditService {
  constructor(
    @InjectRepository(AuditLog) private readonly logs: Repository<AuditLog>,
    private readonly account: CurrentAccount,
  ) {}

  /** Writes an audit row for the current account (inside `manager`'s transaction when given). */
  record(action: AuditAction, orderId: string, manager?: EntityManager): Promise<AuditLog> {
    const logs = manager ? manager.getRepository(AuditLog) : this.logs;
    return logs.save(logs.create({ accountId: this.account.id, action, orderId }));
  }
}
