import { Injectable } from '@nestjs/common';
import { Cron, ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { TestingModule } from '@nestjs/testing';
import { IsString } from 'class-validator';
import { ClsService } from 'nestjs-cls';
import { DataSource } from 'typeorm';
import {
  AccountSource,
  Job,
  JobContext,
  JobHandler,
  JobQueueService,
  JobsModuleOptions,
  Recurring,
} from 'nestjs-tenant-jobs';
import { createTestDatabase, TestDatabase } from './support/database';
import { waitFor } from './support/wait-for';
import { createJobsApp } from './support/jobs-app';

class TickPayload {
  @IsString() label: string;
}

/** Runs every second; three replicas tick it. */
@Recurring({ cron: '* * * * * *', key: 'every-second', payload: { label: 'tick' } })
@Job({ name: 'recurring.tick', payload: TickPayload, tenant: 'none' })
class TickJob implements JobHandler<TickPayload> {
  perform(): void {}
}

@Job({ name: 'recurring.report', tenant: 'none' })
class ReportJob implements JobHandler<Record<string, never>> {
  perform(): void {}
}

/** A user's own @Cron method, made exactly-once across replicas with `oncePerTick`. */
@Injectable()
class ReportScheduler {
  constructor(private readonly jobs: JobQueueService) {}
  @Cron('* * * * * *', { name: 'report-every-second' })
  async enqueueReport(): Promise<void> {
    await this.jobs.performLater(ReportJob, {}, { oncePerTick: 'report-every-second' });
  }
}

const fanOutSightings: Array<{ jobId: string; account: string | undefined; row: string | null }> =
  [];

@Recurring({ cron: '* * * * * *', key: 'digest-per-account', perAccount: true })
@Job({ name: 'recurring.digest' })
class DigestJob implements JobHandler<Record<string, never>> {
  constructor(private readonly cls: ClsService) {}
  perform(_: Record<string, never>, ctx: JobContext): void {
    fanOutSightings.push({ jobId: ctx.id, account: this.cls.get('accountId'), row: ctx.accountId });
  }
}

@Injectable()
class ActiveAccounts implements AccountSource {
  listAccountIds(): string[] {
    return ['acct-1', 'acct-2', 'acct-3'];
  }
}

const withSchedule = (url: string, providers: unknown[], jobs: JobsModuleOptions = {}) =>
  createJobsApp({
    url,
    imports: [ScheduleModule.forRoot()],
    providers: providers as never,
    jobs: { worker: { enabled: false }, ...jobs },
  });

describe('recurring jobs across replicas', () => {
  let db: TestDatabase;
  const apps: TestingModule[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    for (let i = 0; i < 3; i++)
      apps.push(await withSchedule(db.url, [TickJob, ReportJob, ReportScheduler]));
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await db?.drop();
  });

  it('registers the schedule in SchedulerRegistry, where it can be stopped and started', () => {
    const registry = apps[0].get(SchedulerRegistry);
    const cron = registry.getCronJob('jobs:every-second');
    expect(cron.isActive).toBe(true);
    void cron.stop();
    expect(cron.isActive).toBe(false);
    cron.start();
    expect(cron.isActive).toBe(true);
  });

  it('three replicas enqueue exactly one job per tick (@Recurring and @Cron + oncePerTick)', async () => {
    const ds = apps[0].get(DataSource);
    const ticksOf = async (name: string) =>
      (await ds.query(
        `select r.fire_time, count(j.id)::int as jobs
         from jobs.recurring_executions r left join jobs.jobs j on j.id = any(r.job_ids)
         where r.schedule_key = $1 group by r.fire_time order by r.fire_time`,
        [name],
      )) as Array<{ fire_time: Date; jobs: number }>;
    await waitFor(
      async () =>
        (await ticksOf('every-second')).length >= 4 &&
        (await ticksOf('cron:report-every-second')).length >= 4,
      {
        timeoutMs: 15_000,
        message: 'four ticks of each schedule',
      },
    );
    for (const [key, name] of [
      ['every-second', 'recurring.tick'],
      ['cron:report-every-second', 'recurring.report'],
    ]) {
      const ticks = await ticksOf(key);
      expect(ticks.every((t) => t.jobs === 1)).toBe(true);
      expect(ticks.every((t) => t.fire_time.getMilliseconds() === 0)).toBe(true);
      const [{ count }] = await ds.query(
        `select count(*)::int as count from jobs.jobs where name = $1`,
        [name],
      );
      // Each tick enqueued once, by whichever replica won; no tick produced a second job.
      expect(count).toBe((await ticksOf(key)).length);
    }
    const [job] = await ds.query(
      `select payload from jobs.jobs where name = 'recurring.tick' limit 1`,
    );
    expect(job.payload).toEqual({ label: 'tick' });
  });
});

describe('per-account fan-out', () => {
  let db: TestDatabase;
  let app: TestingModule;

  beforeAll(async () => {
    db = await createTestDatabase();
    app = await withSchedule(db.url, [DigestJob, ActiveAccounts], {
      tenant: { clsKey: 'accountId', accounts: ActiveAccounts },
      worker: { enabled: true },
    });
  });

  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('enqueues one job per active account per tick, each performed in its account', async () => {
    const ds = app.get(DataSource);
    const [tick] = await waitFor(async () => {
      const rows: Array<{ job_ids: string[] }> = await ds.query(
        `select job_ids::text[] from jobs.recurring_executions where schedule_key = 'digest-per-account' order by fire_time limit 1`,
      );
      return rows.length === 1 && rows[0].job_ids.length > 0 ? rows : undefined;
    });
    expect(tick.job_ids).toHaveLength(3);
    await waitFor(() => tick.job_ids.every((id) => fanOutSightings.some((s) => s.jobId === id)));
    const seen = fanOutSightings.filter((s) => tick.job_ids.includes(s.jobId));
    expect(seen.map((s) => s.account).sort()).toEqual(['acct-1', 'acct-2', 'acct-3']);
    expect(seen.every((s) => s.account === s.row)).toBe(true);
  });
});

describe('missed ticks', () => {
  let db: TestDatabase;

  beforeAll(async () => (db = await createTestDatabase()));
  afterAll(async () => db?.drop());

  it.each([
    ['skip', 0],
    ['latest', 1],
    ['all', 5],
  ] as const)(
    'policy %s enqueues %i of the ticks missed while every replica was down',
    async (policy, expected) => {
      const key = `catch-up-${policy}`;
      @Job({ name: `catch-up.${policy}`, tenant: 'none' })
      class CatchUpJob implements JobHandler<Record<string, never>> {
        perform(): void {}
      }
      Recurring({ cron: '0 * * * * *', key, missedTicks: policy })(CatchUpJob);
      // The last tick any replica recorded was 5 minutes ago (at a minute boundary).
      const admin = await createJobsApp({ url: db.url, jobs: { worker: { enabled: false } } });
      const ds = admin.get(DataSource);
      await ds.query(
        `insert into jobs.recurring_executions (schedule_key, fire_time)
       values ($1, date_trunc('minute', now()) - interval '5 minutes')`,
        [key],
      );
      await admin.close();
      const app = await withSchedule(db.url, [CatchUpJob]);
      try {
        const rows: Array<{ fire_time: Date }> = await app.get(DataSource).query(
          `select r.fire_time from jobs.recurring_executions r join jobs.jobs j on j.id = any(r.job_ids)
           where r.schedule_key = $1 and r.fire_time < date_trunc('minute', now()) + interval '1 minute'
             and r.fire_time <= now()`,
          [key],
        );
        // Ticks at -4..0 minutes are the ones missed (the current minute's included if already past).
        expect(rows.length).toBeGreaterThanOrEqual(expected === 5 ? 4 : expected);
        expect(rows.length).toBeLessThanOrEqual(expected);
      } finally {
        await app.close();
      }
    },
  );
});

describe('schedule validation at startup', () => {
  let db: TestDatabase;
  beforeAll(async () => (db = await createTestDatabase()));
  afterAll(async () => db?.drop());

  const startupError = (providers: unknown[], jobs: JobsModuleOptions = {}, schedule = true) =>
    (schedule
      ? withSchedule(db.url, providers, jobs)
      : createJobsApp({ url: db.url, providers: providers as never, jobs })
    ).then(
      async (app) => {
        await app.close();
        return undefined;
      },
      (error: unknown) => error as Error,
    );

  it('refuses an invalid cron, a bad payload, perAccount without an account source, and a missing ScheduleModule', async () => {
    @Recurring({ cron: 'every tuesday' })
    @Job({ name: 'bad.cron', tenant: 'none' })
    class BadCron implements JobHandler<unknown> {
      perform(): void {}
    }
    @Recurring({ cron: '0 * * * *', payload: { label: 42 } })
    @Job({ name: 'bad.payload', payload: TickPayload, tenant: 'none' })
    class BadPayload implements JobHandler<TickPayload> {
      perform(): void {}
    }
    expect((await startupError([BadCron]))?.message).toMatch(
      /schedule "bad.cron".*invalid cron "every tuesday"/,
    );
    expect((await startupError([BadPayload]))?.message).toMatch(/schedule "bad.payload".*label/);
    expect((await startupError([DigestJob], { tenant: { clsKey: 'accountId' } }))?.message).toMatch(
      /perAccount needs an account source/,
    );
    expect((await startupError([TickJob], {}, false))?.message).toMatch(
      /import ScheduleModule.forRoot\(\)/,
    );

    // Hardening #6: a schedule key is stored in every tick record, so it must be a storable name.
    @Recurring({ cron: '0 * * * *', key: 'nightly\u0000' })
    @Job({ name: 'bad.key', tenant: 'none' })
    class BadKey implements JobHandler<unknown> {
      perform(): void {}
    }
    expect((await startupError([BadKey]))?.message).toMatch(/job "bad.key": key .*U\+0000/);
  });

  it('takes schedules from module options too', async () => {
    @Job({ name: 'configured', tenant: 'none' })
    class ConfiguredJob implements JobHandler<Record<string, never>> {
      perform(): void {}
    }
    const app = await withSchedule(db.url, [ConfiguredJob], {
      recurring: {
        schedules: [
          { job: 'configured', cron: '0 0 * * *', timeZone: 'Asia/Tokyo', key: 'nightly' },
        ],
      },
    });
    try {
      const cron = app.get(SchedulerRegistry).getCronJob('jobs:nightly');
      // Next fire: midnight in Tokyo = 15:00 UTC.
      expect(cron.nextDate().toUTC().hour).toBe(15);
    } finally {
      await app.close();
    }
  });
});

describe('uniqueKey', () => {
  let db: TestDatabase;
  let app: TestingModule;
  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createJobsApp({
      url: db.url,
      providers: [ReportJob],
      jobs: { worker: { enabled: false } },
    });
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('refuses a duplicate while the first is unfinished, race-safely, returning the existing id', async () => {
    const jobs = app.get(JobQueueService);
    const ids = await Promise.all(
      Array.from({ length: 20 }, () =>
        jobs.performLater(ReportJob, {}, { uniqueKey: 'report:2026-11-22' }),
      ),
    );
    expect(new Set(ids).size).toBe(1);
    const ds = app.get(DataSource);
    const [{ count }] = await ds.query(
      `select count(*)::int as count from jobs.jobs where unique_key = 'report:2026-11-22'`,
    );
    expect(count).toBe(1);
    // Once it is finished, the key is free again.
    await jobs.cancel(ids[0]);
    const again = await jobs.performLater(ReportJob, {}, { uniqueKey: 'report:2026-11-22' });
    expect(again).not.toBe(ids[0]);
    const bulk = await jobs.performAllLater(ReportJob, [
      { payload: {}, uniqueKey: 'report:2026-11-22' },
      { payload: {}, uniqueKey: 'other' },
      { payload: {} },
    ]);
    expect(bulk[0]).toBe(again);
    expect(new Set(bulk).size).toBe(3);
  });
});
