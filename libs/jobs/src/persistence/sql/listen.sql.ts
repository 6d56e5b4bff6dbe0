/** Start receiving a channel's notifications on this connection (the name is quoted as an identifier). */
export function listenSql(channel: string): string {
  return `listen "${channel.replace(/"/g, '""')}"`;
}

/** Stop receiving every channel, before the connection goes back to its pool. */
export const UNLISTEN_ALL_SQL = 'unlisten *';
