/** The LISTEN/NOTIFY channel workers of a schema listen on. */
export function notifyChannel(schema: string): string {
  return `${schema}_jobs_enqueued`;
}

/** The channel on which a cancelled running job's id is announced to the worker that runs it. */
export function cancelChannel(schema: string): string {
  return `${schema}_jobs_cancelled`;
}

/** The channel on which a pause or resume tells every worker to reload its paused lists now. */
export function pauseChannel(schema: string): string {
  return `${schema}_jobs_paused`;
}
