import type { Mail } from '../mailer/mailer';
import type { Order } from '../orders/order.entity';

/** The invoice mail of a confirmed order, to the address the order was placed with. */
export function invoiceMail(order: Order): Mail {
  return {
    to: order.email,
    subject: `Invoice for order ${order.id}`,
    text:
      `Your order of ${order.quantity} x ${order.item}, confirmed on ` +
      `${order.confirmedAt?.toISOString() ?? 'request'}, is invoiced. Thank you!`,
  };
}
