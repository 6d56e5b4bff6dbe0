import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccountsModule } from '../accounts/accounts.module';
import { AuditModule } from '../audit/audit.module';
import { MailerModule } from '../mailer/mailer.module';
import { AdminOrdersController } from './admin-orders.controller';
import { ConfirmOrderJob } from './jobs/confirm-order.job';
import { DeleteOrderJob } from './jobs/delete-order.job';
import { ImportOrderRowJob } from './jobs/import-order-row.job';
import { Order } from './order.entity';
import { OrdersController } from './orders.controller';
import { OrdersRepository } from './orders.repository';
import { OrdersService } from './orders.service';

@Module({
  imports: [TypeOrmModule.forFeature([Order]), AccountsModule, AuditModule, MailerModule],
  controllers: [OrdersController, AdminOrdersController],
  providers: [OrdersRepository, OrdersService, ConfirmOrderJob, DeleteOrderJob, ImportOrderRowJob],
  exports: [OrdersService, OrdersRepository],
})
export class OrdersModule {}
