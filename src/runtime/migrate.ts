import { migrateAllPostgres } from '../migrations.ts';
import { openPostgresDatabase } from '../sql/postgres-database.ts';

/**
 * Brings a distributed deployment's PostgreSQL schema up to date (under a lock, so it is safe
 * beside starting servers and workers) and closes the connection. Answers the migrations applied.
 */
export async function migrateDatabase(url: string): Promise<string[]> {
  const database = await openPostgresDatabase(url);
  try {
    return await migrateAllPostgres(database);
  } finally {
    await database.close();
  }
}
