import assert from 'node:assert/strict';
import { test } from 'node:test';
import { migrateAllPostgres } from '../../src/migrations.ts';
import { openPostgresDatabase } from '../../src/sql/postgres-database.ts';
import { requireOrSkip } from '../support/env.ts';
import { freshSchema } from '../support/postgres-schema.ts';
import { postgresUnavailable, TEST_DATABASE_URL, uniqueName } from '../support/services.ts';

// Many ream schemas can share one database (tenants' deployments, test runs side by side). A
// schema dropped elsewhere while ours migrates must not fail our migration: Kysely's stock
// introspector scanned every schema and failed with `schema "<theirs>" does not exist`.

const unavailable = await postgresUnavailable();

void test('PostgreSQL: migrations see only their own schema and hold while other schemas are made and dropped', async (t) => {
  if (!requireOrSkip(t, unavailable === undefined, unavailable ?? '')) return;
  const admin = await openPostgresDatabase(TEST_DATABASE_URL, { max: 2 });
  const ours = await freshSchema();
  let stop = false;
  let dropped = 0;
  const churn = (async () => {
    while (!stop) {
      const other = uniqueName('ream_churn');
      await admin.pool.query(`create schema "${other}"; create table "${other}".a (id serial primary key, b text, c text, d text, e text); create table "${other}".f (id int)`);
      await admin.pool.query(`drop schema "${other}" cascade`);
      dropped++;
    }
  })();
  try {
    await migrateAllPostgres(ours.database);
    const tables = await ours.database.kysely.introspection.getTables({ withInternalKyselyTables: true });
    assert.ok(tables.length > 0);
    assert.deepEqual([...new Set(tables.map((table) => table.schema))], [ours.database.schema], 'no other schema is scanned');
    assert.ok(tables.some((table) => table.name === 'jobs_migrations'), 'ledgers are listed');
    // Each scan used to fail now and then (about 1 in 150 here) while schemas were dropped.
    for (let i = 0; i < 200; i++) await ours.database.kysely.introspection.getTables();
    await migrateAllPostgres(ours.database);
    assert.ok(dropped > 0, 'other schemas were dropped meanwhile');
  } finally {
    stop = true;
    await churn;
    await ours.drop();
    await admin.close();
  }
});
