import { Inject, Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { EmbeddedPostgresServer } from './embedded-postgres';

export const EMBEDDED_POSTGRES = Symbol('EMBEDDED_POSTGRES');

/**
 * Stops the embedded PostgreSQL as the app shuts down, after the jobs worker has drained (that happens in
 * `beforeApplicationShutdown`). Nest runs `onApplicationShutdown` from the root module inwards, before
 * TypeORM's own hook, so the connection pool is closed here first, then the server.
 */
@Injectable()
export class EmbeddedPostgresShutdown implements OnApplicationShutdown {
  private readonly logger = new Logger('EmbeddedPostgres');

  constructor(
    @Inject(EMBEDDED_POSTGRES) private readonly server: EmbeddedPostgresServer,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async onApplicationShutdown(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
    await this.server.stop();
    this.logger.log('Embedded PostgreSQL stopped');
  }
}
