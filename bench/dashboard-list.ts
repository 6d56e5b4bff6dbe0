/**
 * The dashboard's job list on a big table (issue 17, `npm run bench -- --scenarios dashboard`): a scratch
 * database whose jobs table is filled by `generate_series` with 1,000,000 rows (`--rows <n>` to change)
 * that look like a month of history, then the list page fetched over HTTP (the dashboard mounted
 * `public: true` in a Nest app, so the time is what an operator waits for: query and page) for each
 * filter a user would try, median of `--runs` (default 5) after one warm-up.
 *
 * The table: ids in creation order over 30 days; 96% completed, 3% failed, 1% cancelled; the newest
 * 5,000 available and 20 running; 997 accounts round-robin, plus account `small` with 50 jobs spread over
 * the month; names `orders.confirm` (most), `mail.send`, `invoices.send` (1 in 1,000) and `rare.job` (50
 * jobs); queue `default` (80%), `mailers`, `bulk` (1%).
 */
import { INestApplication, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { JobsDashboardModule, JobsModule } from 'nestjs-tenant-jobs';
import { createScratchDatabase, withClient } from './support/database';
import { percentile } from './support/stats';

/** One row of the table: a filter and its page's median time. */
export interface DashboardListResult {
  case: string;
  query: string;
  rowsShown: number;
  medianMs: number;
  maxMs: number;
}

const DAY_MS = 86_400_000;

/** Fills `jobs.jobs` with `rows` rows of history (see the file comment), in one statement. */
export function fillSql(rows: number): string {
  return `
    insert into jobs.jobs (name, queue, state, payload, account_id, attempts, max_attempts, run_at,
                           locked_by, locked_until, last_error, created_at, started_at, finished_at)
    select name, queue, state, '{"orderId": "1"}'::jsonb, account_id,
           case when state = 'available' then 0 else 1 end, 5, created_at,
           case when state = 'running' then 'bench-worker' end,
           case when state = 'running' then now() + interval '1 minute' end,
           case when state = 'failed' then '{"name": "Error", "message": "boom"}'::jsonb end,
           created_at,
           case when state <> 'available' then created_at + interval '50 ms' end,
           case when state in ('completed', 'failed', 'cancelled') then created_at + interval '90 ms' end
    from (
      select i,
             now() - interval '30 days' + (i * (30 * 86400.0 / ${rows})) * interval '1 second' as created_at,
             case when i > ${rows} - 20 then 'running'
                  when i > ${rows} - 5020 then 'available'
                  when i % 100 < 3 then 'failed'
                  when i % 100 = 3 then 'cancelled'
                  else 'completed' end as state,
             case when i % ${Math.floor(rows / 50)} = 7 then 'small' else 'acct-' || (i % 997) end as account_id,
             case when i % ${Math.floor(rows / 50)} = 11 then 'rare.job'
                  when i % 1000 = 5 then 'invoices.send'
                  when i % 5 = 0 then 'mail.send'
                  else 'orders.confirm' end as name,
             case when i % 100 = 42 then 'bulk' when i % 5 = 0 then 'mailers' else 'default' end as queue
      from generate_series(1, ${rows}) as i
    ) g
    order by i`;
}

/** `datetime-local` text of a time (the list reads it as UTC). */
const local = (at: number) => new Date(at).toISOString().slice(0, 19);

function cases(now: number): Array<{ case: string; query: string }> {
  return [
    { case: 'no filter', query: '' },
    { case: 'state = failed', query: 'state=failed' },
    { case: 'state = available', query: 'state=available' },
    { case: 'account (1,000 jobs)', query: 'account=acct-7' },
    { case: 'account (50 jobs)', query: 'account=small' },
    { case: 'account + state = failed', query: 'account=acct-7&state=failed' },
    { case: 'name (80% of rows)', query: 'name=orders.confirm' },
    { case: 'name (50 jobs)', query: 'name=rare.job' },
    { case: 'queue (1%)', query: 'queue=bulk' },
    {
      case: 'time: last hour',
      query: `from=${local(now - 3_600_000)}`,
    },
    {
      case: 'time: 1 hour, 25 days ago',
      query: `from=${local(now - 25 * DAY_MS)}&to=${local(now - 25 * DAY_MS + 3_600_000)}`,
    },
    {
      case: 'time: 10 days, 20 to 10 days ago',
      query: `from=${local(now - 20 * DAY_MS)}&to=${local(now - 10 * DAY_MS)}`,
    },
    {
      case: 'time: 1 day, 20 days ago, failed',
      query: `state=failed&from=${local(now - 20 * DAY_MS)}&to=${local(now - 19 * DAY_MS)}`,
    },
    {
      case: 'time: 1 hour, 25 days ago, account',
      query: `account=acct-7&from=${local(now - 25 * DAY_MS)}&to=${local(now - 25 * DAY_MS + 3_600_000)}`,
    },
  ];
}

/** GET a page; its time and how many job rows it shows. */
async function fetchPage(
  origin: string,
  path: string,
): Promise<{ ms: number; rows: number; text: string }> {
  const t0 = performance.now();
  const res = await fetch(`${origin}${path}`);
  const text = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${text.slice(0, 300)}`);
  const rows = text.match(/<tr>\s*<td class="num"><a href=/g)?.length ?? 0;
  return { ms, rows, text };
}

async function timed(origin: string, path: string, runs: number) {
  await fetchPage(origin, path); // warm-up: plans, caches
  const times: number[] = [];
  let rows = 0;
  for (let r = 0; r < runs; r++) {
    const page = await fetchPage(origin, path);
    times.push(page.ms);
    rows = page.rows;
  }
  return { medianMs: percentile(times, 50), maxMs: Math.max(...times), rowsShown: rows };
}

@Module({})
class ListModule {}

/** Builds the table, runs every case, drops the database. */
export async function measureDashboardList(
  tag: string,
  rows: number,
  runs: number,
  log: (message: string) => void,
): Promise<DashboardListResult[]> {
  const db = await createScratchDatabase(`${tag}_dashboard`);
  let app: INestApplication | undefined;
  try {
    app = await NestFactory.create(
      {
        module: ListModule,
        imports: [
          ClsModule.forRoot({ global: true }),
          TypeOrmModule.forRoot({ type: 'postgres', url: db.url, extra: { max: 4 } }),
          JobsModule.forRoot({ runMigrations: true, worker: { enabled: false } }),
          JobsDashboardModule.forRoot({ path: '/jobs', public: true }),
        ],
      },
      { logger: ['error', 'warn'] },
    );
    await app.listen(0, '127.0.0.1');
    const origin = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    const t0 = performance.now();
    await withClient(db.url, async (c) => {
      await c.query(fillSql(rows));
      await c.query('vacuum analyze jobs.jobs');
    });
    log(`dashboard: ${rows} rows filled and analyzed in ${Math.round(performance.now() - t0)} ms`);
    const now = Date.now();
    const results: DashboardListResult[] = [];
    for (const c of cases(now)) {
      const path = `/jobs/jobs${c.query ? `?${c.query}` : ''}`;
      results.push({ ...c, ...(await timed(origin, path, runs)) });
      log(`dashboard: ${c.case}: ${JSON.stringify(results[results.length - 1])}`);
    }
    // Page 50: follow the "Older →" link 49 times, then time the 50th page.
    let path = '/jobs/jobs';
    for (let page = 1; page < 50; page++) {
      const { text } = await fetchPage(origin, path);
      const next = /<a rel="next" href="([^"]+)"/.exec(text)?.[1];
      if (!next) throw new Error(`no page ${page + 1}`);
      path = next.replace(/&amp;/g, '&');
    }
    const query = path.split('?')[1] ?? '';
    results.push({ case: 'no filter, page 50', query, ...(await timed(origin, path, runs)) });
    return results;
  } finally {
    await app?.close();
    await db.drop();
  }
}

/** The markdown table of the results. */
export function renderDashboardList(
  rows: number,
  runs: number,
  results: DashboardListResult[],
): string {
  return [
    `## Dashboard job list on ${rows.toLocaleString('en-US')} rows (GET over HTTP, median of ${runs})`,
    '',
    '| Filter | Rows shown | Median ms | Max ms |',
    '| --- | --- | --- | --- |',
    ...results.map(
      (r) => `| ${r.case} | ${r.rowsShown} | ${r.medianMs.toFixed(1)} | ${r.maxMs.toFixed(1)} |`,
    ),
  ].join('\n');
}
