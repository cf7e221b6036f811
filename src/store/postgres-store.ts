import type { PostgresDatabase } from '../sql/postgres-database.ts';
import type { Store } from './port.ts';
import { openSqlStore } from './sql-store.ts';

/**
 * The distributed store: the shared Kysely queries over PostgreSQL. Safe with many processes:
 * idempotent creates are `on conflict` inserts, and `appendEvent` takes the job row's lock to
 * bump its counter, so event numbers stay gapless whoever appends.
 */
export const PostgresStore = {
  /** Creates or migrates the store's tables in the database's schema (idempotent), then returns the store. */
  open(database: PostgresDatabase): Promise<Store> {
    return openSqlStore(database.kysely, 'postgres', database.schema);
  },
};
