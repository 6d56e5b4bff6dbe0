import {
  Body,
  Controller,
  Get,
  HttpCode,
  HttpStatus,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  UseGuards,
} from '@nestjs/common';
import { RequireAccountGuard } from '../accounts/require-account.guard';
import { CreateOrderDto } from './dto/create-order.dto';
import { ImportOrdersDto } from './dto/import-orders.dto';
import { Order } from './order.entity';
import { OrdersService } from './orders.service';

/** Tenant routes: the X-Account-Id header selects the account. */
@Controller('orders')
@UseGuards(RequireAccountGuard)
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  @Post()
  place(@Body() dto: CreateOrderDto): Promise<{ order: Order; jobId: string }> {
    return this.orders.place(dto);
  }

  /** Imports `count` orders in the background (one job per row); 202 with the import's id. */
  @Post('import')
  @HttpCode(HttpStatus.ACCEPTED)
  import(@Body() dto: ImportOrdersDto): Promise<{ importId: string; rows: number }> {
    return this.orders.import(dto);
  }

  @Get(':id')
  async find(@Param('id', ParseUUIDPipe) id: string): Promise<Order> {
    const order = await this.orders.find(id);
    if (!order) throw new NotFoundException(`Order ${id} not found.`);
    return order;
  }

  /** (Re)requests the confirmation of an order; a no-op job if it is already confirmed. */
  @Post(':id/confirm')
  @HttpCode(HttpStatus.ACCEPTED)
  async confirm(@Param('id', ParseUUIDPipe) id: string): Promise<{ jobId: string }> {
    return { jobId: await this.orders.requestConfirmation(id) };
  }
}
