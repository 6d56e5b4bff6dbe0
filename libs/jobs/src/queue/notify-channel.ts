/** The LISTEN/NOTIFY channel workers of a schema listen on. */
export function notifyChannel(schema: string): string {
  return `${schema}_jobs_enqueued`;
}
