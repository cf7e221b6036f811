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

/** Every table of `schema` but the migration ledgers (`<port>_migrations`, `<port>_migrations_lock`). */
async function emptyTables(database: PostgresDatabase): Promise<void> {
  const schema = database.schema;
  const { rows: tables } = await database.pool.query<{ name: string }>(
    `select table_name as name from information_schema.tables where table_schema = $1 and table_type = 'BASE TABLE' and table_name !~ '_migrations(_lock)?$'`, [schema],
  );
  if (tables.length > 0) await database.pool.query(`truncate table ${tables.map((t) => `"${schema}"."${t.name}"`).join(', ')} restart identity cascade`);
  const { rows: sequences } = await database.pool.query<{ name: string }>(`select sequence_name as name from information_schema.sequences where sequence_schema = $1`, [schema]);
  for (const sequence of sequences) await database.pool.query(`alter sequence "${schema}"."${sequence.name}" restart`);
}

/**
 * One schema, migrated by `migrate` the first time a case asks for it, then handed to each case
 * as a fresh, migrated schema would be: every table empty (the migration ledgers kept), every
 * sequence restarted, and a pool of the case's own, closed at its end (so no session, lock or
 * transaction a case leaves reaches the next). Running a store's 40-table migration for every
 * case instead cost 5 to 8 s a case on a loaded machine. `drop` removes the schema.
 */
export function migratedOnce(migrate: (database: PostgresDatabase) => Promise<unknown>): { emptied: () => Promise<PostgresDatabase>; drop: () => Promise<void> } {
  let made: Promise<Awaited<ReturnType<typeof freshSchema>>> | undefined;
  return {
    async emptied() {
      made ??= freshSchema().then(async (schema) => {
        await migrate(schema.database);
        return schema;
      });
      const { database: first, open } = await made;
      await emptyTables(first);
      return open();
    },
    async drop() {
      if (made !== undefined) await (await made).drop();
    },
  };
}
