import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { analysisMigrations } from '../../src/analyzers/store/analysis-schema.ts';
import { migrateAllPostgres } from '../../src/migrations.ts';
import type { SqlFlavor } from '../../src/sql/dialect.ts';
import { migrate, type FlavoredMigration } from '../../src/sql/migrate.ts';
import type { PostgresDatabase } from '../../src/sql/postgres-database.ts';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { PostgresStore } from '../../src/store/postgres-store.ts';
import type { Store } from '../../src/store/port.ts';
import { storeMigrations } from '../../src/store/sql-store.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { requireOrSkip } from '../support/env.ts';
import { freshSchema } from '../support/postgres-schema.ts';
import { postgresUnavailable } from '../support/services.ts';
import { legacyStoreMigrations } from './fixtures/legacy-store-migrations.ts';

// Databases made before the store was split into ports record their store tables in one
// `store` ledger. The current code must open them as they are: adopt what the old ledger records
// (no table made twice), create what it lacks, keep the data, and end with the schema a new
// database gets.

const unavailable = await postgresUnavailable();
/** Every store migration, as `<port>/<name>`, in the order a database applies them. */
const STORE_MIGRATIONS = storeMigrations.flatMap(({ port, migrations }) => Object.keys(migrations).map((name) => `${port}/${name}`));

function legacy(names: readonly string[]): Record<string, FlavoredMigration> {
  return Object.fromEntries(names.map((name) => [name, legacyStoreMigrations[name] as FlavoredMigration]));
}

/** Data only the old code wrote: a job with a document and two events. */
async function writeWithOldLayout(db: Kysely<unknown>): Promise<void> {
  await sql`insert into jobs (id, tenant_id, key, pipeline, options, priority, status, created_at, event_seq) values ('j', 't', 'k', 'p', '{}', 0, 'running', 1, 2)`.execute(db);
  await sql`insert into documents (id, tenant_id, sha256, name, size, media_type, created_at) values ('d', 't', 'ab', 'a.pdf', 3, 'application/pdf', 1)`.execute(db);
  await sql`insert into job_documents (job_id, document_id, ordinal, source) values ('j', 'd', 0, 'a.pdf')`.execute(db);
  for (const seq of [1, 2]) {
    await sql`insert into events (job_id, seq, tenant_id, type, at, data) values ('j', ${seq}, 't', 'job.queued', 1, '{"progress":null}')`.execute(db);
  }
}

async function assertOldDataServed(store: Store): Promise<void> {
  assert.equal((await store.findJobByKey('t', 'k'))?.id, 'j');
  assert.equal((await store.getDocument('d'))?.sha256, 'ab');
  assert.deepEqual((await store.listJobDocuments('j')).map((d) => d.documentId), ['d']);
  assert.equal((await store.appendEvent({ type: 'job.progress', jobId: 'j', tenantId: 't', at: 2, progress: { documentsDone: 0, documentsTotal: 1, pagesDone: 0, pagesTotal: 0, percent: 0, etaSeconds: null } })).seq, 3, 'numbering goes on');
}

/** Every store port's ledger records each of its migrations exactly once. */
async function assertPortLedgers(db: Kysely<unknown>, flavor: SqlFlavor, schema?: string): Promise<void> {
  for (const { port, migrations } of storeMigrations) {
    const table = flavor === 'postgres' && schema !== undefined ? sql.table(`${schema}.${port}_migrations`) : sql.table(`${port}_migrations`);
    const { rows } = await sql<{ name: string }>`select name from ${table} order by name`.execute(db);
    assert.deepEqual(rows.map((row) => row.name), Object.keys(migrations), port);
  }
}

/** Tables, columns, indexes and constraints, ledgers left out: what must match a new database. */
async function sqliteSchema(path: string): Promise<string[]> {
  const database = openSqliteDatabase(path);
  try {
    return database.sqlite
      .prepare("select type || ' ' || name || ': ' || coalesce(sql, '') from sqlite_master where name not like '%migrations%' and name not like 'sqlite_%' order by name")
      .pluck()
      .all() as string[];
  } finally {
    await database.close();
  }
}

void test('SQLite: a data dir migrated by the old store ledger opens, keeps its data, and ends with the new schema', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-legacy-'));
  try {
    for (const [label, names] of [['all', ['0001_initial', '0002_api_keys', '0003_workers_uploads']], ['before workers', ['0001_initial', '0002_api_keys']]] as const) {
      const path = join(dir, `${label}.db`);
      const old = openSqliteDatabase(path);
      assert.equal((await migrate(old.kysely, 'store', 'sqlite', legacy(names))).length, names.length);
      await writeWithOldLayout(old.kysely);
      await old.close();

      const current = openSqliteDatabase(path);
      const store = await SqliteStore.open(current);
      await assertOldDataServed(store);
      await assertPortLedgers(current.kysely, 'sqlite');
      // What the old ledger lacked was made: the worker table works.
      await store.putWorker({ id: 'w', host: 'h', pid: 1, startedAt: 1, lastSeenAt: 1, concurrency: 1, inFlight: 0, tasksDone: 0, tasksFailed: 0, state: 'running' });
      assert.equal((await store.listWorkers(0)).length, 1);
      await current.close();

      const fresh = openSqliteDatabase(join(dir, `${label}-fresh.db`));
      await SqliteStore.open(fresh);
      await fresh.close();
      assert.deepEqual(await sqliteSchema(path), await sqliteSchema(join(dir, `${label}-fresh.db`)), label);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function postgresSchema(database: PostgresDatabase): Promise<string[]> {
  const { rows } = await sql<{ line: string }>`
    select table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') as line
      from information_schema.columns where table_schema = ${database.schema} and table_name not like '%migrations%'
    union all
    select replace(indexdef, ${database.schema} || '.', '') from pg_indexes where schemaname = ${database.schema} and tablename not like '%migrations%'
    union all
    select c.conname || ' ' || pg_get_constraintdef(c.oid) from pg_constraint c join pg_namespace n on n.oid = c.connamespace
      where n.nspname = ${database.schema} and c.conname not like '%migrations%'
    order by 1`.execute(database.kysely);
  return rows.map((row) => row.line);
}

void test('PostgreSQL: a schema migrated by the old store ledger opens, keeps its data, and ends with the new schema', async (t) => {
  if (!requireOrSkip(t, unavailable === undefined, unavailable ?? '')) return;
  const legacySchema = await freshSchema();
  const fresh = await freshSchema();
  try {
    const { database } = legacySchema;
    await migrate(database.kysely, 'store', 'postgres', legacyStoreMigrations, database.schema);
    await writeWithOldLayout(database.kysely);
    // Nothing for the store's ports to create: their 0001s are recorded, not run again; later ones run.
    const applied = await migrateAllPostgres(database);
    assert.deepEqual(applied, [...STORE_MIGRATIONS, 'search/0001_initial', 'search/0002_result_records', ...Object.keys(analysisMigrations).map((name) => `analysis/${name}`)]);
    await assertOldDataServed(await PostgresStore.open(database));
    await assertPortLedgers(database.kysely, 'postgres', database.schema);

    // A schema next to one with the old ledger is migrated in full: ledgers are read per schema.
    await migrateAllPostgres(fresh.database);
    const store = await PostgresStore.open(fresh.database);
    assert.equal((await store.createJob({ id: 'j2', tenantId: 't', key: null, pipeline: 'p', options: {}, priority: 0 }, 1)).status, 'queued');
    assert.deepEqual(await postgresSchema(database), await postgresSchema(fresh.database));
  } finally {
    await legacySchema.drop();
    await fresh.drop();
  }
});
