/**
 * The boundary checks of `values/` against the real server: everything they accept goes into the real
 * jobs table (its column types, constraints and btree indexes, made by the library's migrations) and comes
 * back exactly; everything `toStorableText` and JSON replace mode produce is accepted; and what they refuse
 * for storability, PostgreSQL really refuses or alters. Seeded (`VALUES_SEED`), so a failure replays.
 */
import { Client, QueryResultRow } from 'pg';
import {
  checkDelayMs,
  checkInt4,
  checkName,
  checkPositiveInt4,
  checkRunAt,
  checkStorableText,
  normalizeAccountId,
  toJobId,
  toStorableErrorText,
  toStorableJson,
  toStorableText,
} from 'nestjs-tenant-jobs/values';
import {
  below,
  randomJsonish,
  randomNumber,
  randomString,
  randomUnknown,
  Random,
  seededRandom,
  VALUES_SEED,
  withSeedAsync,
} from 'nestjs-tenant-jobs/values/value-samples.spec-helper';
import { createTestDatabase, TestDatabase } from './support/database';
import { createJobsApp } from './support/jobs-app';

const SAMPLES = 600;

let db: TestDatabase;
let client: Client;
let random: Random;

beforeAll(async () => {
  db = await createTestDatabase();
  // The library's own migrations make the table: the real columns, constraints and indexes.
  const app = await createJobsApp({ url: db.url, jobs: { worker: { enabled: false } } });
  await app.close();
  client = new Client({ connectionString: db.url });
  await client.connect();
});

beforeEach(() => {
  random = seededRandom(VALUES_SEED);
});

afterAll(async () => {
  await client?.end();
  await db?.drop();
});

const seeded = (body: () => Promise<void>) => () => withSeedAsync(VALUES_SEED, body);
const many = <T>(make: () => T, n = SAMPLES): T[] => Array.from({ length: n }, make);
const accepted = (problem: string | undefined) => problem === undefined;

/** Incompressible text of `n` code units from the CJK block (3 bytes each): the worst case for an index. */
function cjk(n: number): string {
  return Array.from({ length: n }, () => String.fromCharCode(0x4e00 + below(random, 20_000))).join(
    '',
  );
}

/** Inserts rows into jobs.jobs in one statement and returns the named columns, in order. */
async function insertJobs<T extends QueryResultRow>(
  columns: Record<string, { type: string; values: unknown[] }>,
  returning: string,
): Promise<T[]> {
  const names = Object.keys(columns);
  const { rows } = await client.query<T>(
    `insert into jobs.jobs (${names.join(', ')})
     select ${names.map((n) => `d.${n}`).join(', ')}
     from unnest(${names.map((n, i) => `$${i + 1}::${columns[n].type}[]`).join(', ')}) with ordinality
          as d(${names.join(', ')}, ord)
     order by d.ord
     returning ${returning}`,
    names.map((n) => columns[n].values),
  );
  return rows;
}

describe(`values against PostgreSQL (seed ${VALUES_SEED})`, () => {
  it(
    'accepted names, queues, unique keys and account ids are stored exactly, indexes included',
    seeded(async () => {
      // At and just over the limits, in the worst case for a btree row (incompressible 3-byte characters):
      // 900 of them (2,700 bytes) are what PostgreSQL refuses for the unique-key index.
      const edges = [cjk(255), cjk(256), cjk(512), cjk(513), cjk(900), '😀'.repeat(256)];
      const strings = [...many(() => randomString(random)), ...edges];
      const texts = strings.filter((s) => accepted(checkStorableText(s)));
      const keys = [...new Set(strings.filter((s) => accepted(checkName(s, 'uniqueKey'))))];
      const queues = strings.filter((s) => accepted(checkName(s, 'queue')));
      const accounts = many(() => randomUnknown(random))
        .concat(strings)
        .flatMap((v) => {
          try {
            const id = normalizeAccountId(v, { from: 'option' });
            return typeof id === 'string' ? [id] : [];
          } catch {
            return [];
          }
        });
      expect(keys).toContain(edges[2]); // 512 CJK characters: 1,536 bytes
      expect(accounts).toContain(edges[0]); // 255 CJK characters

      // Unique keys in a runnable state (the partial unique index), account ids in 'failed' (the
      // failed-jobs index on account_id), any storable text as a name (not indexed: no length bound).
      const byKey = await insertJobs<{ unique_key: string; queue: string }>(
        {
          name: { type: 'text', values: keys.map(() => 'values.key') },
          unique_key: { type: 'text', values: keys },
          queue: { type: 'text', values: keys.map((_, i) => queues[i % queues.length]) },
        },
        'unique_key, queue',
      );
      expect(byKey.map((r) => r.unique_key)).toEqual(keys);
      expect(byKey.map((r) => r.queue)).toEqual(keys.map((_, i) => queues[i % queues.length]));
      const byAccount = await insertJobs<{ account_id: string; name: string }>(
        {
          name: { type: 'text', values: accounts.map((_, i) => texts[i % texts.length]) },
          account_id: { type: 'text', values: accounts },
          state: { type: 'text', values: accounts.map(() => 'failed') },
        },
        'account_id, name',
      );
      expect(byAccount.map((r) => r.account_id)).toEqual(accounts);
      expect(byAccount.map((r) => r.name)).toEqual(accounts.map((_, i) => texts[i % texts.length]));
    }),
  );

  it(
    'what checkStorableText refuses, text refuses (NUL) or alters (lone surrogate); toStorableText output is stored exactly',
    seeded(async () => {
      const strings = many(() => randomString(random));
      for (const s of strings.filter((x) => !accepted(checkStorableText(x)))) {
        const sent = client.query<{ v: string }>('select $1::text as v', [s]);
        if (s.includes('\u0000')) await expect(sent).rejects.toMatchObject({ code: '22021' });
        else expect((await sent).rows[0].v).not.toBe(s);
      }
      const made = strings.map((s, i) => toStorableText(s, i % 3 === 0 ? 40 : 100_000));
      const { rows } = await client.query<{ v: string }>(
        'select v from unnest($1::text[]) with ordinality as d(v, ord) order by ord',
        [made],
      );
      expect(rows.map((r) => r.v)).toEqual(made);
    }),
  );

  it(
    'strict JSON is stored as jsonb exactly; replace-mode JSON and error records are always accepted',
    seeded(async () => {
      const values = many(() => randomJsonish(random));
      const strict = values.map((v) => toStorableJson(v, { mode: 'strict', maxBytes: 8_192 }));
      const payloads = strict.flatMap((o) => (o.json === undefined ? [] : [o.json]));
      const results = values.map(
        (v) => toStorableJson(v, { mode: 'replace', maxBytes: 2_048 }).json,
      );
      const errors = values.map((v) =>
        JSON.stringify({ attempt: 1, ...toStorableErrorText(v, { stack: 300 }) }),
      );
      expect(payloads.length).toBeGreaterThan(SAMPLES / 5);
      const stored = await insertJobs<{ payload: unknown }>(
        {
          name: { type: 'text', values: payloads.map(() => 'values.json') },
          payload: { type: 'jsonb', values: payloads },
        },
        'payload',
      );
      expect(stored.map((r) => r.payload)).toEqual(payloads.map((j) => JSON.parse(j) as unknown));
      const finished = await insertJobs<{ result: unknown; last_error: unknown }>(
        {
          name: { type: 'text', values: results.map(() => 'values.result') },
          result: { type: 'jsonb', values: results },
          last_error: { type: 'jsonb', values: errors },
        },
        'result, last_error',
      );
      expect(finished.map((r) => r.result)).toEqual(results.map((j) => JSON.parse(j) as unknown));
      expect(finished.map((r) => r.last_error)).toEqual(
        errors.map((j) => JSON.parse(j) as unknown),
      );
      // What strict mode refuses for its text, jsonb refuses too.
      const refusedText = values.filter(
        (_, i) =>
          strict[i].problem !== undefined && /U\+0000|surrogate/.test(strict[i].problem ?? ''),
      );
      expect(refusedText.length).toBeGreaterThan(0);
      for (const v of refusedText) {
        const json = JSON.stringify(v);
        await expect(client.query('select $1::jsonb', [json])).rejects.toMatchObject({
          code: expect.stringMatching(/^22P0[25]$/),
        });
      }
    }),
  );

  it(
    'accepted integers round-trip through integer columns; refused numbers are refused by PostgreSQL too',
    seeded(async () => {
      const numbers = many(() => randomNumber(random));
      const priorities = numbers.filter((n) => accepted(checkInt4(n)));
      const attempts = numbers.filter((n) => accepted(checkPositiveInt4(n)));
      expect(priorities).toEqual(expect.arrayContaining([2 ** 31 - 1, -(2 ** 31)]));
      const rows = await insertJobs<{ priority: number; max_attempts: number }>(
        {
          name: { type: 'text', values: priorities.map(() => 'values.int') },
          priority: { type: 'int4', values: priorities },
          max_attempts: {
            type: 'int4',
            values: priorities.map((_, i) => attempts[i % attempts.length]),
          },
        },
        'priority, max_attempts',
      );
      // `+ 0` turns -0 into 0: the same integer.
      expect(rows.map((r) => r.priority)).toEqual(priorities.map((n) => n + 0));
      expect(rows.map((r) => r.max_attempts)).toEqual(
        priorities.map((_, i) => attempts[i % attempts.length]),
      );
      for (const n of new Set(numbers.filter((x) => !accepted(checkInt4(x))))) {
        await expect(client.query('select $1::int4', [n])).rejects.toMatchObject({
          code: expect.stringMatching(/^22/),
        });
      }
    }),
  );

  it(
    'accepted job ids are bigints PostgreSQL reads back as the same decimal string',
    seeded(async () => {
      const candidates = [
        ...many(() => randomUnknown(random)),
        ...many(() =>
          String(BigInt(Math.floor(random() * 2 ** 53)) * BigInt(1 + below(random, 1_000))),
        ),
        '9223372036854775807',
      ];
      const ids = candidates.flatMap((v) => toJobId(v) ?? []);
      expect(ids).toContain('9223372036854775807');
      const { rows } = await client.query<{ id: string }>(
        'select id::text as id from unnest($1::bigint[]) with ordinality as d(id, ord) order by ord',
        [ids],
      );
      expect(rows.map((r) => r.id)).toEqual(ids);
    }),
  );

  it(
    'accepted runAt dates survive the enqueue document (JSON ISO text) to timestamptz exactly',
    seeded(async () => {
      const dates = [
        ...many(() => new Date(randomNumber(random))),
        ...many(
          () =>
            new Date(Date.UTC(1970 + below(random, 8030), 0, 1) + below(random, 31_536_000_000)),
        ),
        new Date('9999-12-31T23:59:59.999Z'),
        new Date(0),
      ];
      const ok = dates.filter((d) => accepted(checkRunAt(d)));
      expect(ok.length).toBeGreaterThan(SAMPLES / 2);
      const rows = await insertJobs<{ run_at: Date }>(
        {
          name: { type: 'text', values: ok.map(() => 'values.date') },
          // As enqueueDocument writes it: JSON.stringify(date), read back as timestamptz.
          run_at: {
            type: 'timestamptz',
            values: ok.map((d) => JSON.parse(JSON.stringify(d)) as string),
          },
        },
        'run_at',
      );
      expect(rows.map((r) => r.run_at.getTime())).toEqual(ok.map((d) => d.getTime()));
      // Years 10000+ and before 1 are refused by PostgreSQL in that form: what checkRunAt guards.
      for (const iso of [
        '+010000-01-01T00:00:00.000Z',
        '0000-06-01T00:00:00.000Z',
        '-000001-01-01T00:00:00.000Z',
      ]) {
        expect(checkRunAt(new Date(iso))).toBeDefined();
        await expect(client.query('select $1::timestamptz', [iso])).rejects.toMatchObject({
          code: expect.stringMatching(/^22/),
        });
      }
    }),
  );

  it(
    'accepted delays keep now() ± delay inside the date range, as an interval PostgreSQL computes',
    seeded(async () => {
      const delays = [...many(() => randomNumber(random)), 3_155_760_000_000].filter((n) =>
        accepted(checkDelayMs(n)),
      );
      const { rows } = await client.query<{ later: number; earlier: number }>(
        `select extract(year from now() + d * interval '1 millisecond')::int as later,
                extract(year from now() - d * interval '1 millisecond')::int as earlier
         from unnest($1::float8[]) with ordinality as x(d, ord) order by ord`,
        [delays],
      );
      expect(rows).toHaveLength(delays.length);
      for (const r of rows) {
        expect(r.later).toBeLessThanOrEqual(9999);
        expect(r.earlier).toBeGreaterThanOrEqual(1900);
      }
      for (const refused of [1e16, 1e300, NaN]) {
        expect(checkDelayMs(refused)).toBeDefined();
        await expect(
          client.query(`select now() + $1 * interval '1 millisecond'`, [refused]),
        ).rejects.toMatchObject({ code: '22008' });
      }
    }),
  );
});
