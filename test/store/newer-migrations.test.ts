// A data dir (or PostgreSQL schema) that a newer ream migrated records migrations this ream does
// not have. Opening it is refused with schema_too_new, naming them and saying a newer ream made
// it, before anything is read or written, instead of an `internal` error from the migrator.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { ReamError } from '../../src/errors.ts';
import { migrateAllPostgres } from '../../src/migrations.ts';
import { createReam } from '../../src/runtime/create-ream.ts';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { requireOrSkip } from '../support/env.ts';
import { freshSchema } from '../support/postgres-schema.ts';
import { postgresUnavailable } from '../support/services.ts';

const FUTURE = '9999_from_a_newer_ream';

function isTooNew(port: string, where: RegExp): (error: ReamError) => boolean {
  return (error) => {
    assert.ok(error instanceof ReamError, String(error));
    assert.equal(error.code, 'schema_too_new');
    assert.equal(error.retryable, false);
    assert.match(error.message, where);
    assert.match(error.message, new RegExp(`was migrated by a newer ream: its ${port} tables have migration\\(s\\) ${FUTURE}, which this ream does not know`));
    assert.deepEqual(error.details, { port, migrations: [FUTURE] });
    return true;
  };
}

test('a data dir a newer ream migrated is refused with schema_too_new, naming the migration', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-newer-'));
  try {
    const dataDir = join(dir, 'data');
    await (await createReam({ dataDir, threads: 1 })).close();
    const db = openSqliteDatabase(join(dataDir, 'ream.db'));
    await sql`insert into jobs_migrations (name, timestamp) values (${FUTURE}, '2030-01-01T00:00:00.000Z')`.execute(db.kysely);
    await db.close();
    await assert.rejects(createReam({ dataDir, threads: 1 }), isTooNew('jobs', /^the data dir was migrated/));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a PostgreSQL schema a newer ream migrated is refused with schema_too_new, naming the migration', async (t) => {
  const unavailable = await postgresUnavailable();
  if (!requireOrSkip(t, unavailable === undefined, unavailable ?? '')) return;
  const fresh = await freshSchema();
  try {
    await migrateAllPostgres(fresh.database);
    const { kysely, schema } = fresh.database;
    await sql`insert into ${sql.table(`${schema}.search_migrations`)} (name, timestamp) values (${FUTURE}, '2030-01-01T00:00:00.000Z')`.execute(kysely);
    await assert.rejects(migrateAllPostgres(fresh.database), isTooNew('search', new RegExp(`^the PostgreSQL schema ${schema} was migrated`)));
  } finally {
    await fresh.drop();
  }
});
