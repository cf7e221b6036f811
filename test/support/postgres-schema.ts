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

/**
 * How to empty `schema`'s tables, all but the migration ledgers (`<port>_migrations`,
 * `<port>_migrations_lock`): one transaction that deletes every row, a table before those its
 * foreign keys point to, then what the deletes' triggers wrote, and restarts every sequence.
 * Worked out once, after the migration: the tables do not change after it. A `truncate` of the store's twenty-one tables took 0.6 to 0.8 s a
 * case on a loaded machine (it gives each table and index a new file), deleting their few rows
 * about 10 ms.
 */
async function emptyingStatement(database: PostgresDatabase): Promise<string> {
  const schema = database.schema;
  const { rows: tables } = await database.pool.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = $1 and c.relkind in ('r', 'p') and not c.relispartition and c.relname !~ '_migrations(_lock)?$' order by c.relname`, [schema],
  );
  const { rows: references } = await database.pool.query<{ child: string; parent: string }>(
    `select child.relname as child, parent.relname as parent from pg_constraint k
     join pg_class child on child.oid = k.conrelid join pg_class parent on parent.oid = k.confrelid
     join pg_namespace n on n.oid = child.relnamespace
     where k.contype = 'f' and n.nspname = $1 and k.conrelid <> k.confrelid`, [schema],
  );
  const { rows: sequences } = await database.pool.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = $1 and c.relkind = 'S' order by c.relname`, [schema],
  );
  const quoted = (name: string): string => `"${schema}"."${name}"`;
  // Children first: a table is deleted from once every table that references it is.
  const order: string[] = [];
  const left = new Set(tables.map((table) => table.name));
  while (left.size > 0) {
    const ready = [...left].filter((table) => !references.some((ref) => ref.parent === table && left.has(ref.child)));
    // Tables that reference each other round a cycle: only truncate empties those in one statement.
    if (ready.length === 0) return `truncate table ${tables.map((table) => quoted(table.name)).join(', ')} restart identity cascade`;
    for (const table of ready) {
      order.push(table);
      left.delete(table);
    }
  }
  // A delete's row triggers may write tables emptied before it (deleting a document or a job
  // moves its tenant's stored-bytes counter): a second pass empties those, and fires no row
  // trigger, having no other row left to delete.
  const deletes = order.map((table) => `delete from ${quoted(table)}`);
  return [
    'begin',
    ...deletes,
    ...deletes,
    ...sequences.map((sequence) => `alter sequence ${quoted(sequence.name)} restart`),
    'commit',
  ].join(';\n');
}

/**
 * One schema, migrated by `migrate` the first time a case asks for it, then handed to each case
 * as a fresh, migrated schema would be: every table empty (the migration ledgers kept), every
 * sequence restarted, and a pool of the case's own, closed at its end (so no session, lock or
 * transaction a case leaves reaches the next). Running a store's 40-table migration for every
 * case instead cost 5 to 8 s a case on a loaded machine. `drop` removes the schema.
 */
export function migratedOnce(migrate: (database: PostgresDatabase) => Promise<unknown>): { emptied: () => Promise<PostgresDatabase>; drop: () => Promise<void> } {
  let made: Promise<Awaited<ReturnType<typeof freshSchema>> & { emptying: string }> | undefined;
  return {
    async emptied() {
      made ??= freshSchema().then(async (schema) => {
        await migrate(schema.database);
        return { ...schema, emptying: await emptyingStatement(schema.database) };
      });
      const { database: first, open, emptying } = await made;
      await first.pool.query(emptying);
      return open();
    },
    async drop() {
      if (made !== undefined) await (await made).drop();
    },
  };
}
