import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** An order of one account. Always read and written through `OrdersRepository`, which scopes by account. */
@Entity({ name: 'orders' })
export class Order {
  @PrimaryGeneratedColumn('uuid') id: string;
  @Column({ name: 'account_id', type: 'uuid' }) accountId: string;
  @Column('text') item: string;
  @Column('integer') quantity: number;
  /** Where the confirmation mail goes. */
  @Column('text') email: string;
  @Column({ name: 'confirmed_at', type: 'timestamptz', nullable: true }) confirmedAt: Date | null;
  /** When the invoice mail was sent (`invoices.send-pending`); `null` until then. */
  @Column({ name: 'invoiced_at', type: 'timestamptz', nullable: true }) invoicedAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}
