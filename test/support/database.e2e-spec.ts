import { Client } from 'pg';
import { createTestDatabase, withDatabaseName } from './database';
import { waitFor } from './wait-for';

async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}

describe('test database helpers', () => {
  it('has DATABASE_URL from the environment or the embedded server', () => {
    expect(process.env.DATABASE_URL).toMatch(/^postgres(ql)?:\/\//);
  });

  describe('createTestDatabase', () => {
    it('creates a connectable database that is gone after drop()', async () => {
      const db = await createTestDatabase();
      expect(db.name).toMatch(new RegExp(`^jobs_test_${process.pid}_[0-9a-f]{8}$`));
      expect(db.url).toBe(withDatabaseName(process.env.DATABASE_URL!, db.name));

      const client = await connect(db.url);
      const { rows } = await client.query<{ db: string }>('select current_database() as db');
      expect(rows[0].db).toBe(db.name);
      await client.query('create table t (id int primary key)');
      await client.query('insert into t values (1)');

      // A connection that is still open when drop() runs gets terminated.
      const terminated = new Promise<Error>((resolve) => client.on('error', resolve));
      await db.drop();
      await expect(terminated).resolves.toBeInstanceOf(Error);
      await client.end().catch(() => undefined);

      await expect(connect(db.url)).rejects.toMatchObject({ code: '3D000' }); // invalid_catalog_name
      const admin = await connect(process.env.DATABASE_URL!);
      try {
        const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [
          db.name,
        ]);
        expect(rowCount).toBe(0);
      } finally {
        await admin.end();
      }

      await expect(db.drop()).resolves.toBeUndefined(); // idempotent
    });

    it('gives every call its own isolated database', async () => {
      const [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
      try {
        expect(a.name).not.toBe(b.name);
        const ca = await connect(a.url);
        const cb = await connect(b.url);
        try {
          await ca.query('create table only_in_a (id int)');
          const { rowCount } = await cb.query(
            `select 1 from information_schema.tables where table_name = 'only_in_a'`,
          );
          expect(rowCount).toBe(0);
        } finally {
          await Promise.all([ca.end(), cb.end()]);
        }
      } finally {
        await Promise.all([a.drop(), b.drop()]);
      }
    });
  });

  describe('withDatabaseName', () => {
    it.each([
      ['postgres://u:p@h:5432/postgres', 'postgres://u:p@h:5432/x'],
      ['postgres://u@h:5432/test?sslmode=disable', 'postgres://u@h:5432/x?sslmode=disable'],
      ['postgresql://h', 'postgresql://h/x'],
    ])('%s -> %s', (input, expected) => {
      expect(withDatabaseName(input, 'x')).toBe(expected);
    });
  });

  describe('waitFor', () => {
    it('polls until fn returns a truthy value and returns it', async () => {
      let calls = 0;
      const value = await waitFor(() => (++calls >= 3 ? { calls } : null), { intervalMs: 5 });
      expect(value).toEqual({ calls: 3 });
    });

    it('treats thrown errors and rejections as "not yet"', async () => {
      let calls = 0;
      const value = await waitFor(
        async () => {
          if (++calls < 3) throw new Error('not ready');
          return 'ready';
        },
        { intervalMs: 5 },
      );
      expect(value).toBe('ready');
    });

    it('times out with the message and the last value', async () => {
      const started = Date.now();
      const error = await waitFor(() => 0, { timeoutMs: 100, intervalMs: 10, message: 'job done' })
        .then(() => undefined)
        .catch((e: Error) => e);
      expect(Date.now() - started).toBeGreaterThanOrEqual(95);
      expect(error).toBeInstanceOf(Error);
      expect(error!.message).toMatch(/^waitFor timed out after 100ms \(\d+ attempts\): job done;/);
      expect(error!.message).toContain('last value: 0');
    });

    it('times out with the last error and keeps it as cause', async () => {
      const cause = new Error('connection refused');
      const promise = waitFor(
        () => {
          throw cause;
        },
        { timeoutMs: 50, message: 'server up' },
      );
      await expect(promise).rejects.toThrow(/server up; last error: Error: connection refused/);
      await expect(promise).rejects.toMatchObject({ cause });
    });

    it('does not let a hanging fn extend the timeout', async () => {
      const started = Date.now();
      await expect(
        waitFor(() => new Promise<boolean>(() => undefined), { timeoutMs: 100, message: 'hang' }),
      ).rejects.toThrow(/hang; the last call to fn did not settle in time/);
      expect(Date.now() - started).toBeLessThan(1_000);
    });
  });
});
