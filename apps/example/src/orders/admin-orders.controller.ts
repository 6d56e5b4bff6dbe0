import {
  Controller,
  Delete,
  HttpCode,
  HttpStatus,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  UseGuards,
} from '@nestjs/common';
import { RequireAccountGuard } from '../accounts/require-account.guard';
import { OrdersService } from './orders.service';

@Controller('admin/orders')
@UseGuards(RequireAccountGuard)
export class AdminOrdersController {
  constructor(private readonly orders: OrdersService) {}

  /** Audits the request synchronously, deletes the order asynchronously (202 with the job id). */
  @Delete(':id')
  @HttpCode(HttpStatus.ACCEPTED)
  async delete(@Param('id', ParseUUIDPipe) id: string): Promise<{ jobId: string }> {
    const jobId = await this.orders.requestDeletion(id);
    if (!jobId) throw new NotFoundException(`Order ${id} not found.`);
    return { jobId };
  }
}
