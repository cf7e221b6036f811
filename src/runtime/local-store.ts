import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/port.ts';

/** A deployment's records: a data dir's SQLite, or its PostgreSQL when `databaseUrl` is set. */
export interface StoreLocation {
  dataDir: string;
  databaseUrl?: string | undefined;
}

/**
 * Opens only the store (not a ream, so no data-dir lock: a running `ream serve` holds it), runs
 * `use`, and closes it: what `ream keys` and `ream tenants` work on. Embedded: the data dir's
 * SQLite (WAL mode lets this run beside a serving process). Distributed: the deployment's
 * PostgreSQL.
 */
export async function withLocalStore<T>(location: StoreLocation, use: (store: Store) => Promise<T>): Promise<T> {
  if (location.databaseUrl !== undefined && location.databaseUrl !== '') {
    // Loaded only when asked for, as for a distributed ream: pg is not needed embedded.
    const { openPostgresDatabase } = await import('../sql/postgres-database.ts');
    const { PostgresStore } = await import('../store/postgres-store.ts');
    const database = await openPostgresDatabase(location.databaseUrl);
    try {
      return await use(await PostgresStore.open(database));
    } finally {
      await database.close();
    }
  }
  const { openSqliteDatabase } = await import('../sql/sqlite-database.ts');
  const { SqliteStore } = await import('../store/sqlite-store.ts');
  mkdirSync(location.dataDir, { recursive: true });
  const database = openSqliteDatabase(join(location.dataDir, 'ream.db'));
  try {
    return await use(await SqliteStore.open(database));
  } finally {
    await database.close();
  }
}
