import { createHash } from 'node:crypto';
import pg from 'pg';
import { analysisMigrations } from '../../src/analyzers/store/analysis-schema.ts';
import { migrateAllPostgres } from '../../src/migrations.ts';
import { postgresSearchMigrations } from '../../src/search/postgres-search-schema.ts';
import { openPostgresDatabase } from '../../src/sql/postgres-database.ts';
import { storeMigrations } from '../../src/store/sql-store.ts';
import { TEST_DATABASE_URL } from './services.ts';

// Every cluster and distributed test starts on a database of its own, which its first `ream`
// process then migrated: forty-odd tables and their indexes, 1.5 to 2 s of PostgreSQL's work a
// database under load. A database copied from a migrated template (`create database … template`)
// costs 0.1 to 0.3 s more than an empty one.

/** Held while a test process looks for the template and, when it is missing, makes it. */
const TEMPLATE_LOCK = 7_304_190_213;

/**
 * The template's name: what `migrateAllPostgres` runs, each migration's name and code, so that a
 * template left on the server by other code is never taken for this code's.
 */
function templateName(): string {
  const hash = createHash('sha256');
  for (const [port, migrations] of [...storeMigrations.map((set) => [set.port, set.migrations] as const), ['search', postgresSearchMigrations] as const, ['analysis', analysisMigrations] as const]) {
    for (const [name, up] of Object.entries(migrations)) hash.update(`${port}/${name}\n${String(up)}\n`);
  }
  return `ream_test_template_${hash.digest('hex').slice(0, 16)}`;
}

/**
 * The name of a database that holds every port's tables in its `public` schema, migrated and
 * empty, for `create database … template` (PostgreSQL copies it, and refuses while anyone is
 * connected to it: nothing is, once it is made). Made by the first test process that asks, under
 * an advisory lock that the others wait for; flagged a template only once migrated, so one
 * whose making was cut short is made again.
 */
export async function migratedTemplate(admin: pg.Client): Promise<string> {
  const name = templateName();
  await admin.query('select pg_advisory_lock($1)', [TEMPLATE_LOCK]);
  try {
    const { rows } = await admin.query<{ ready: boolean }>('select datistemplate as ready from pg_database where datname = $1', [name]);
    if (rows[0]?.ready === true) return name;
    if (rows.length > 0) await admin.query(`drop database "${name}" with (force)`);
    await admin.query(`create database "${name}"`);
    const url = new URL(TEST_DATABASE_URL);
    url.pathname = `/${name}`;
    const database = await openPostgresDatabase(url.toString(), { max: 1 });
    try {
      await migrateAllPostgres(database);
    } finally {
      await database.close();
    }
    await admin.query(`alter database "${name}" is_template true`);
    return name;
  } finally {
    await admin.query('select pg_advisory_unlock($1)', [TEMPLATE_LOCK]);
  }
}
