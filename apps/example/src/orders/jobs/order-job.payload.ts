import { IsUUID } from 'class-validator';

/**
 * Payload of the order jobs: just the order id. The account is not in the payload; the jobs library
 * records the enqueuing account on the job and restores it in CLS when the job runs.
 */
export class OrderJobPayload {
  @IsUUID() orderId: string;
}
