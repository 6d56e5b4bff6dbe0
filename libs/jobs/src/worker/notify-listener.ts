import { Logger } from '@nestjs/common';
import type { PoolClient } from 'pg';
import { toError } from '../errors';
import type { JobsDatabase } from '../persistence/jobs-database';
import { listenSql, UNLISTEN_ALL_SQL } from '../persistence/sql/listen.sql';

/** Called with the notification's payload; `undefined` after a reconnect, when notifications may have been missed. */
export type NotificationHandler = (payload: string | undefined) => void;

/**
 * Holds one connection that LISTENs on a few channels and calls each channel's handler. Reconnects with
 * capped backoff when the connection drops (database restart, terminated backend) and calls every
 * handler once after reconnecting, since notifications sent while disconnected are lost.
 */
export class NotifyListener {
  private client: PoolClient | undefined;
  private stopped = true;
  private retryTimer: NodeJS.Timeout | undefined;
  private failures = 0;

  constructor(
    private readonly db: JobsDatabase,
    private readonly handlers: Record<string, NotificationHandler>,
    private readonly logger: Logger,
  ) {}

  /** True while the LISTEN connection is up. */
  get connected(): boolean {
    return this.client !== undefined;
  }

  /**
   * The LISTEN connection while it is up: a notification handler may run a statement on it (the fetch
   * loop's claim after a NOTIFY, see `ClaimRequest.connection`); notifications wait for it to finish.
   */
  get connection(): PoolClient | undefined {
    return this.client;
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    try {
      await client.query(UNLISTEN_ALL_SQL);
      client.release();
    } catch (error) {
      client.release(toError(error));
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let client: PoolClient | undefined;
    try {
      client = await this.db.connect((error, failed) => this.drop(failed, error));
      client.on('notification', (n) => this.handlers[n.channel]?.(n.payload ?? ''));
      for (const channel of Object.keys(this.handlers)) await client.query(listenSql(channel));
      if (this.stopped) {
        client.release();
        return;
      }
      this.client = client;
      if (this.failures > 0) this.logger.log('LISTEN connection restored');
      this.failures = 0;
      for (const handler of Object.values(this.handlers)) handler(undefined);
    } catch (error) {
      if (client) this.drop(client, error);
      else this.scheduleReconnect(error);
    }
  }

  private drop(client: PoolClient, error: unknown): void {
    if (this.client === client) this.client = undefined;
    try {
      client.release(toError(error));
    } catch {
      // already released
    }
    this.scheduleReconnect(error);
  }

  private scheduleReconnect(error: unknown): void {
    if (this.stopped || this.retryTimer) return;
    this.failures++;
    const delay = Math.min(30_000, 250 * 2 ** Math.min(this.failures, 7));
    this.logger.warn(
      `LISTEN connection lost (${toError(error).message}); reconnecting in ${delay} ms`,
    );
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
  }
}
