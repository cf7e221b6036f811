import { join } from 'node:path';
import { damagedDatabase, makeDataDir } from './data-dir-lock.ts';
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
  makeDataDir(location.dataDir);
  const path = join(location.dataDir, 'ream.db');
  let database: ReturnType<typeof openSqliteDatabase>;
  try {
    database = openSqliteDatabase(path);
  } catch (error) {
    throw damagedDatabase(error, path) ?? error;
  }
  try {
    let store: Store;
    try {
      store = await SqliteStore.open(database);
    } catch (error) {
      throw damagedDatabase(error, path) ?? error;
    }
    return await use(store);
  } finally {
    await database.close();
  }
}
