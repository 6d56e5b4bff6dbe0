import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Read model of a job row in the default `jobs` schema, for apps that want to query jobs with TypeORM
 * (dashboards, reports). The library itself does not need it registered: it writes with hand-written SQL.
 */
@Entity({ schema: 'jobs', name: 'jobs', synchronize: false })
export class JobEntity {
  @PrimaryColumn({ type: 'bigint' }) id: string;
  @Column('text') name: string;
  @Column('text') queue: string;
  @Column('integer') priority: number;
  @Column('text') state: string;
  @Column('jsonb') payload: unknown;
  @Column({ name: 'account_id', type: 'text', nullable: true }) accountId: string | null;
  @Column('integer') attempts: number;
  @Column({ name: 'max_attempts', type: 'integer' }) maxAttempts: number;
  @Column({ name: 'run_at', type: 'timestamptz' }) runAt: Date;
  @Column({ name: 'locked_by', type: 'text', nullable: true }) lockedBy: string | null;
  @Column({ name: 'locked_until', type: 'timestamptz', nullable: true }) lockedUntil: Date | null;
  @Column({ name: 'last_error', type: 'jsonb', nullable: true }) lastError: unknown;
  @Column('jsonb') errors: unknown[];
  @Column({ type: 'jsonb', nullable: true }) result: unknown;
  @Column({ name: 'unique_key', type: 'text', nullable: true }) uniqueKey: string | null;
  @Column({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column({ name: 'started_at', type: 'timestamptz', nullable: true }) startedAt: Date | null;
  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true }) finishedAt: Date | null;
}
