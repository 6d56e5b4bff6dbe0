import type { Mail } from '../mailer/mailer';
import type { Order } from '../orders/order.entity';

/** Orders listed one per line; beyond this the digest only counts them. */
const MAX_LISTED = 50;

/** Where an account's digest goes. Accounts have no email address of their own in this example. */
export function accountOwnerEmail(accountId: string): string {
  return `owner+${accountId}@example.com`;
}

/** How many of `orders` are confirmed. */
export function confirmedCount(orders: Order[]): number {
  return orders.filter((order) => order.confirmedAt).length;
}

/** The daily digest of one account: its orders of the last 24 hours and how many are confirmed. */
export function dailyDigestMail(accountId: string, orders: Order[]): Mail {
  const confirmed = confirmedCount(orders);
  const lines = orders
    .slice(0, MAX_LISTED)
    .map(
      (order) =>
        `- ${order.id}: ${order.quantity} x ${order.item}, ${order.confirmedAt ? 'confirmed' : 'pending'}`,
    );
  if (orders.length > MAX_LISTED) lines.push(`- … and ${orders.length - MAX_LISTED} more`);
  return {
    to: accountOwnerEmail(accountId),
    subject: `Daily digest: ${orders.length} new order(s), ${confirmed} confirmed`,
    text: [
      `Orders created in the last 24 hours: ${orders.length} (${confirmed} confirmed).`,
      ...lines,
    ].join('\n'),
  };
}
