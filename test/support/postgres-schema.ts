import { openPostgresDatabase, type PostgresDatabase } from '../../src/sql/postgres-database.ts';
import { TEST_DATABASE_URL, uniqueName } from './services.ts';

/**
 * A PostgreSQL database on a schema of its own, so tests sharing the server never see each
 * other's tables; `drop` removes the schema with everything in it (after closing `opened`).
 */
export async function freshSchema(max = 4): Promise<{ database: PostgresDatabase; open: () => Promise<PostgresDatabase>; drop: () => Promise<void> }> {
  const schema = uniqueName('ream_test');
  const opened: PostgresDatabase[] = [];
  const open = async (): Promise<PostgresDatabase> => {
    const database = await openPostgresDatabase(TEST_DATABASE_URL, { schema, max });
    opened.push(database);
    return database;
  };
  const database = await open();
  return {
    database,
    open,
    async drop() {
      for (const db of opened) await db.close();
      const admin = await openPostgresDatabase(TEST_DATABASE_URL, { max: 1 });
      try {
        await admin.pool.query(`drop schema if exists "${schema}" cascade`);
      } finally {
        await admin.close();
      }
    },
  };
}
