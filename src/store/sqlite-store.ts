import { migrate } from './sql.ts';
import { SqlStore } from './sql-store.ts';
import type { SqliteDatabase } from './sqlite-database.ts';
import { storeMigrations } from './store-schema.ts';

/** The embedded store: the shared Kysely queries over the data dir's SQLite database. */
export class SqliteStore extends SqlStore {
  /** Creates or migrates the store's tables (idempotent), then returns the store. */
  static async open(database: SqliteDatabase): Promise<SqliteStore> {
    await migrate(database.kysely, 'store', 'sqlite', storeMigrations);
    return new SqliteStore(database.kysely, 'sqlite');
  }
}
