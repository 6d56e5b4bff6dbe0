import { RECURRING_METADATA } from '../jobs.internal-constants';
import type { RecurringOptions } from '../interfaces';

/**
 * Makes a `@Job` recurring. Stack it for several schedules (give each its own `key`). The schedule is a
 * cron job in @nestjs/schedule's `SchedulerRegistry` (named `jobs:<key>`), so it can be listed, stopped
 * and started like any Nest cron; each tick enqueues the job exactly once across replicas.
 *
 * @example
 * @Recurring({ cron: '*\/10 * * * *', timeZone: 'Asia/Tokyo' })
 * @Job({ name: 'invoices.send-pending', tenant: 'none' })
 * export class SendPendingInvoicesJob implements JobHandler<Record<string, never>> { … }
 */
export function Recurring(options: RecurringOptions): ClassDecorator {
  return (target) => {
    const existing: RecurringOptions[] = Reflect.getMetadata(RECURRING_METADATA, target) ?? [];
    Reflect.defineMetadata(RECURRING_METADATA, [...existing, options], target);
  };
}
