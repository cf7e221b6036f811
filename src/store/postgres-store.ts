import type { PostgresDatabase } from './postgres-database.ts';
import { migrate } from './sql.ts';
import { SqlStore } from './sql-store.ts';
import { storeMigrations } from './store-schema.ts';

/**
 * The distributed store: the shared Kysely queries over PostgreSQL. Safe with many processes:
 * idempotent creates are `on conflict` inserts, and `appendEvent` takes the job row's lock to
 * bump its counter, so event numbers stay gapless whoever appends.
 */
export class PostgresStore extends SqlStore {
  /** Creates or migrates the store's tables in the database's schema (idempotent), then returns the store. */
  static async open(database: PostgresDatabase): Promise<PostgresStore> {
    await migrate(database.kysely, 'store', 'postgres', storeMigrations, database.schema);
    return new PostgresStore(database.kysely, 'postgres');
  }
}
