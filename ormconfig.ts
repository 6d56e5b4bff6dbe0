/**
 * DataSource for the TypeORM CLI (`npm run migration:run` / `migration:revert`): the example app's
 * entities and migrations (the jobs library's first), on the database named by DATABASE_URL.
 */
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './apps/example/src/database/data-source';

const url = process.env.DATABASE_URL;
if (!url) {
  throw new Error(
    'DATABASE_URL is not set, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/shop',
  );
}

export default new DataSource(dataSourceOptions(url));
