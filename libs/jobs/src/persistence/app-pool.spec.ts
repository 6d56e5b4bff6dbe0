import { DataSource } from 'typeorm';
import { appPoolOf } from './app-pool';

/**
 * A stand-in for the `pg` module, given to TypeORM through its documented `driver` option, so the real
 * postgres driver of the installed TypeORM builds its pool without a server: every query answers one
 * row that satisfies the driver's start-up look-ups (version, database, schema).
 */
function fakePg() {
  const created: FakePool[] = [];
  class FakePool {
    constructor(readonly config: Record<string, unknown>) {
      created.push(this);
    }
    on() {
      return this;
    }
    query() {
      return Promise.resolve(fakeResult);
    }
    connect(callback?: (error: Error | null, client: unknown, release: () => void) => void) {
      const client = {
        on: () => client,
        removeListener: () => client,
        query: () => Promise.resolve(fakeResult),
        release: () => undefined,
      };
      if (!callback) return Promise.resolve(client);
      callback(null, client, () => undefined);
    }
    end(callback?: (error?: Error) => void) {
      if (!callback) return Promise.resolve();
      callback();
    }
  }
  return { module: { Pool: FakePool, defaults: {} }, created };
}

const fakeResult = {
  rows: [
    {
      version: 'PostgreSQL 16.0',
      server_version: '16.0',
      current_database: 'app',
      current_schema: 'public',
    },
  ],
  rowCount: 1,
  command: 'SELECT',
  fields: [],
};

describe('appPoolOf', () => {
  it("finds the pool the installed TypeORM's postgres driver builds (PostgresDriver.master)", async () => {
    const pg = fakePg();
    const dataSource = new DataSource({
      type: 'postgres',
      url: 'postgres://app@db.example:5432/app',
      driver: pg.module,
    });
    await dataSource.driver.connect();
    try {
      expect(pg.created).toHaveLength(1);
      expect(appPoolOf(dataSource)).toBe(pg.created[0]);
    } finally {
      await dataSource.driver.disconnect();
    }
  });

  it('is undefined, so JobsDatabase uses its fallback pool, when the driver exposes no pool', () => {
    const withoutPool = { driver: {} } as unknown as DataSource;
    const somethingElse = {
      driver: { master: { query: () => undefined } },
    } as unknown as DataSource;
    expect(appPoolOf(withoutPool)).toBeUndefined();
    expect(appPoolOf(somethingElse)).toBeUndefined();
  });
});
