import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { sql, type Kysely } from 'kysely';
import type { SqlFlavor } from '../../src/sql/dialect.ts';
import { migrate } from '../../src/sql/migrate.ts';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { documentMigrations } from '../../src/store/documents-schema.ts';
import { jobMigrations } from '../../src/store/jobs-schema.ts';
import type { Store } from '../../src/store/port.ts';
import { openSqlStore } from '../../src/store/sql-store.ts';
import { requireOrSkip } from '../support/env.ts';
import { freshSchema } from '../support/postgres-schema.ts';
import { postgresUnavailable } from '../support/services.ts';

// Before jobs/0002 the engine kept a job's retry generation and webhook in its options under
// `_ream`. Migrating moves them into columns of their own and out of the user's options.

const unavailable = await postgresUnavailable();

/** The jobs table as 0001 made it, with rows the old engine wrote. */
async function writeOldJobs(db: Kysely<unknown>, flavor: SqlFlavor, schema?: string): Promise<void> {
  await migrate(db, 'documents', flavor, documentMigrations.migrations, schema);
  const initial = jobMigrations.migrations['0001_initial'];
  assert.ok(initial);
  await migrate(db, 'jobs', flavor, { '0001_initial': initial }, schema);
  const rows: Array<[string, object]> = [
    ['plain', { lang: 'en' }],
    ['retried', { lang: 'de', _ream: { retry: 2 } }],
    ['hooked', { _ream: { retry: 1, webhook: { url: 'https://example.test/h', secret: 's' } } }],
    ['unsigned', { _ream: { webhook: { url: 'https://example.test/u' } } }],
  ];
  for (const [id, options] of rows) {
    await sql`insert into jobs (id, tenant_id, key, pipeline, options, priority, status, created_at) values (${id}, 't', null, 'extract', ${JSON.stringify(options)}, 0, 'succeeded', 1)`.execute(db);
  }
}

async function assertMoved(store: Store): Promise<void> {
  const get = async (id: string) => {
    const job = await store.getJob(id);
    assert.ok(job, id);
    return { options: job.options, retryGeneration: job.retryGeneration, webhook: job.webhook };
  };
  assert.deepEqual(await get('plain'), { options: { lang: 'en' }, retryGeneration: 0, webhook: null });
  assert.deepEqual(await get('retried'), { options: { lang: 'de' }, retryGeneration: 2, webhook: null });
  assert.deepEqual(await get('hooked'), { options: {}, retryGeneration: 1, webhook: { url: 'https://example.test/h', secret: 's' } });
  assert.deepEqual(await get('unsigned'), { options: {}, retryGeneration: 0, webhook: { url: 'https://example.test/u' } });
}

void test('SQLite: jobs/0002 moves `_ream` out of options into the engine columns', async () => {
  const database = openSqliteDatabase(':memory:');
  try {
    await writeOldJobs(database.kysely, 'sqlite');
    await assertMoved(await openSqlStore(database.kysely, 'sqlite'));
  } finally {
    await database.close();
  }
});

void test('PostgreSQL: jobs/0002 moves `_ream` out of options into the engine columns', async (t: TestContext) => {
  if (!requireOrSkip(t, unavailable === undefined, unavailable ?? '')) return;
  const { database, drop } = await freshSchema();
  try {
    await writeOldJobs(database.kysely, 'postgres', database.schema);
    await assertMoved(await openSqlStore(database.kysely, 'postgres', database.schema));
  } finally {
    await drop();
  }
});
