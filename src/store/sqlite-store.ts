import type { SqliteDatabase } from '../sql/sqlite-database.ts';
import type { Store } from './port.ts';
import { openSqlStore } from './sql-store.ts';

/** The embedded store: the shared Kysely queries over the data dir's SQLite database. */
export const SqliteStore = {
  /** Creates or migrates the store's tables (idempotent), then returns the store. */
  open(database: SqliteDatabase): Promise<Store> {
    return openSqlStore(database.kysely, 'sqlite');
  },
};
