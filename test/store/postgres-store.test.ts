import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReamError } from '../../src/errors.ts';
import { migrateAllPostgres } from '../../src/migrations.ts';
import { openPostgresDatabase } from '../../src/sql/postgres-database.ts';
import { migratePorts } from '../../src/sql/migrate.ts';
import { PostgresStore } from '../../src/store/postgres-store.ts';
import { storeMigrations } from '../../src/store/sql-store.ts';
import { storeConformance } from '../conformance/store.ts';
import { newJob, sha } from '../conformance/store-fixtures.ts';
import { freshDatabase } from '../support/cluster.ts';
import { freshSchema, migratedOnce } from '../support/postgres-schema.ts';
import { requireOrSkip } from '../support/env.ts';
import { postgresUnavailable, TEST_DATABASE_URL } from '../support/services.ts';

const unavailable = await postgresUnavailable();

// The cases share one schema, migrated once and emptied for each (migratedOnce).
const conformanceSchema = migratedOnce((database) => PostgresStore.open(database));
after(() => conformanceSchema.drop());
storeConformance(
  'PostgresStore',
  async () => {
    const database = await conformanceSchema.emptied();
    const store = await PostgresStore.open(database);
    return {
      store,
      async cleanup() {
        await store.close();
        await database.close();
      },
    };
  },
  { unavailable },
);

void test('PostgresStore: two pools appending to one job concurrently get gapless seqs', async (t) => {
  if (!requireOrSkip(t, unavailable === undefined, unavailable ?? '')) return;
  const { database, open, drop } = await freshSchema();
  try {
    const [first, second] = [await PostgresStore.open(database), await PostgresStore.open(await open())];
    await first.createJob({ id: 'j', tenantId: 't', key: null, pipeline: 'p', options: {}, priority: 0 }, 1);
    const progress = { documentsDone: 0, documentsTotal: 0, pagesDone: 0, pagesTotal: 0, percent: 0, etaSeconds: null };
    const appended = await Promise.all(
      Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? first : second).appendEvent({ type: 'job.progress', jobId: 'j', tenantId: 't', at: i, progress })),
    );
    const seqs = appended.map((event) => event.seq).sort((a, b) => a - b);
    assert.deepEqual(seqs, Array.from({ length: 200 }, (_, i) => i + 1));
    assert.deepEqual((await second.listEvents('j', 0)).map((e) => e.seq), seqs);
  } finally {
    await drop();
  }
});

void test('openPostgresDatabase: a server that does not answer is `unavailable`, the password not shown', async () => {
  await assert.rejects(openPostgresDatabase('postgres://ream:s3cret@127.0.0.1:1/nowhere', { connectTimeoutMs: 2_000 }), (error: unknown) => {
    assert.ok(error instanceof ReamError);
    assert.equal(error.code, 'unavailable');
    assert.equal(error.retryable, true);
    assert.match(error.message, /PostgreSQL at postgres:\/\/ream:\*\*\*@127\.0\.0\.1:1\/nowhere is unavailable/);
    assert.doesNotMatch(error.message, /s3cret/);
    return true;
  });
  await assert.rejects(openPostgresDatabase(TEST_DATABASE_URL, { schema: 'Bad-Name' }), { code: 'validation_failed' });
});

void test('migrateAllPostgres migrates store, queue, search and analysis once; the schema is first on search_path', async (t) => {
  if (!requireOrSkip(t, unavailable === undefined, unavailable ?? '')) return;
  const { database, drop } = await freshSchema();
  try {
    const applied = await migrateAllPostgres(database);
    assert.deepEqual(applied, [
      'documents/0001_initial', 'documents/0002_deleted_documents', 'documents/0003_stored_at', 'jobs/0001_initial', 'jobs/0002_engine_columns', 'jobs/0003_created_index', 'jobs/0004_search_indexes', 'jobs/0005_deleting_at', 'jobs/0006_deleting_index', 'job_documents/0001_initial', 'job_documents/0002_parent_id', 'job_documents/0003_job_artifacts', 'job_documents/0004_chunk_body', 'job_documents/0005_chunk_counts_index', 'job_documents/0006_chunk_csv', 'job_documents/0007_document_indexes', 'job_documents/0008_chunk_progress', 'job_documents/0009_artifact_size', 'job_documents/0010_job_report_files',
      'events/0001_initial', 'events/0002_failures_index', 'api_keys/0001_initial', 'api_keys/0002_created_index', 'workers/0001_initial', 'workers/0002_detail_command', 'uploads/0001_initial', 'audit/0001_initial', 'tenants/0001_initial', 'tenants/0002_deleted_job_pages', 'tenants/0003_tenant_stored_bytes', 'tenants/0004_storage_reservations', 'tenants/0005_artifact_bytes_per_statement',
      'metrics/0001_initial', 'search/0001_initial', 'search/0002_result_records',
      'analysis/0001_initial', 'analysis/0002_reservation_lease', 'analysis/0003_cache_owner', 'analysis/0004_budget_stop', 'analysis/0005_reserved_at',
    ]);
    assert.deepEqual(await migrateAllPostgres(database), []);
    const { rows } = await database.pool.query<{ schema: string; id: number }>('select current_schema() as schema, 9007199254740991::bigint as id');
    assert.deepEqual(rows, [{ schema: database.schema, id: Number.MAX_SAFE_INTEGER }], 'bigint comes back as a number');
  } finally {
    await drop();
  }
});

void test('a store whose every migration is recorded opens without the migration lock, which another process may hold for minutes', async (t) => {
  if (!requireOrSkip(t, unavailable === undefined, unavailable ?? '')) return;
  const { database, drop } = await freshSchema();
  // The lock the migrator takes (Kysely's PostgreSQL adapter: one advisory lock per database).
  const holder = await openPostgresDatabase(TEST_DATABASE_URL, { max: 1 });
  try {
    await PostgresStore.open(database);
    const client = await holder.pool.connect();
    try {
      await client.query('select pg_advisory_lock(3853314791062309107)');
      // Nothing to migrate: opened at once. Before, every open waited for the lock (and listed every table of the database twice per port).
      const waiting = new AbortController();
      const opened = await Promise.race([
        PostgresStore.open(database).then(() => 'opened'),
        sleep(60_000, 'waited a minute for the lock', { signal: waiting.signal }).catch(() => 'cancelled'),
      ]);
      waiting.abort();
      assert.equal(opened, 'opened');
    } finally {
      await client.query('select pg_advisory_unlock(3853314791062309107)');
      client.release();
    }
  } finally {
    await holder.close();
    await drop();
  }
});

void test('a schema emptied for the next conformance case holds no row, not even those its deletes\' triggers wrote', async (t) => {
  if (!requireOrSkip(t, unavailable === undefined, unavailable ?? '')) return;
  const schema = migratedOnce((database) => PostgresStore.open(database));
  try {
    const database = await schema.emptied();
    const store = await PostgresStore.open(database);
    // Deleting a document or a job moves its tenant's stored-bytes counter (a trigger): the
    // counter's table, which no foreign key ties to them, must be emptied after them.
    const job = await store.createJob(newJob({ tenantId: 'shared-tenant' }), 1_000);
    await store.putDocument({ id: 'd', tenantId: 'shared-tenant', sha256: sha(1), name: 'd.pdf', size: 300, mediaType: 'application/pdf' }, 1_000);
    await store.putJobArtifacts(job.id, [{ sha256: sha(2), size: 40 }]);
    await store.close();
    await database.close();
    const emptied = await schema.emptied();
    try {
      const { rows } = await emptied.pool.query<{ tenant_id: string; bytes: string }>(`select tenant_id, bytes from "${emptied.schema}".tenant_stored_bytes`);
      assert.deepEqual(rows, []);
      const next = await PostgresStore.open(emptied);
      assert.equal((await next.tenantUsage('shared-tenant', 0)).storageBytes, 0);
      await next.close();
    } finally {
      await emptied.close();
    }
  } finally {
    await schema.drop();
  }
});

void test('PostgresStore: the migration that keeps tenants\' stored bytes counts what the records held before it', async (t) => {
  if (!requireOrSkip(t, unavailable === undefined, unavailable ?? '')) return;
  const { database, drop } = await freshSchema();
  try {
    // Migrated as a ream before the counter was: every port but the tenants' last migration.
    const before = storeMigrations.map((port) => (port.port !== 'tenants' ? port : { ...port, migrations: Object.fromEntries(Object.entries(port.migrations).filter(([name]) => name < '0003')) }));
    await migratePorts(database.kysely, 'postgres', before, database.schema);
    const q = (text: string): Promise<unknown> => database.pool.query(text);
    await q(`insert into documents (id, tenant_id, sha256, name, size, media_type, created_at, deleted_at) values
      ('d1', 'a', 's1', 'x', 100, 'm', 1, null), ('d2', 'a', 's2', 'x', 10, 'm', 1, 5), ('d3', 'b', 's1', 'x', 100, 'm', 1, null)`);
    await q(`insert into jobs (id, tenant_id, key, pipeline, options, priority, status, created_at) values
      ('j1', 'a', null, 'rows', '{}', 0, 'succeeded', 1), ('j2', 'a', null, 'rows', '{}', 0, 'succeeded', 1)`);
    await q(`insert into job_artifacts (job_id, sha256, size) values ('j1', 'r1', 7), ('j2', 'r1', 7), ('j2', 'r2', 3)`);
    const store = await PostgresStore.open(database);
    assert.deepEqual([await store.tenantStoredBytes('a'), await store.tenantStoredBytes('b'), await store.tenantStoredBytes('c')], [110, 100, 0]);
    await store.deleteJob('j2');
    assert.equal(await store.tenantStoredBytes('a'), 107);
  } finally {
    await drop();
  }
});

void test('PostgresStore: a statement\'s report records are counted once each content, with one move of each tenant\'s counter, not one per row', async (t) => {
  if (!requireOrSkip(t, unavailable === undefined, unavailable ?? '')) return;
  const { database, drop } = await freshSchema();
  try {
    const store = await PostgresStore.open(database);
    const q = (text: string): Promise<unknown> => database.pool.query(text);
    await q(`insert into jobs (id, tenant_id, key, pipeline, options, priority, status, created_at) values
      ('j1', 'a', null, 'rows', '{}', 0, 'running', 1), ('j2', 'a', null, 'rows', '{}', 0, 'running', 1), ('j3', 'a', null, 'rows', '{}', 0, 'running', 1),
      ('j4', 'a', null, 'rows', '{}', 0, 'running', 1), ('k1', 'b', null, 'rows', '{}', 0, 'running', 1)`);
    await store.putJobArtifacts('j1', [{ sha256: 'old', size: 5 }]);
    // One statement: 'old' is j1's already (not counted again for a), 's' comes in two of a's jobs at once (counted once).
    await q(`insert into job_artifacts (job_id, sha256, size) values
      ('j2', 'old', 5), ('j2', 's', 7), ('j3', 's', 7), ('j2', 'u', 3), ('k1', 's', 7), ('k1', 'old', 5)`);
    assert.deepEqual([await store.tenantStoredBytes('a'), await store.tenantStoredBytes('b')], [5 + 7 + 3, 7 + 5]);

    // 500 rows in one statement move the tenant's counter row a constant number of times (per row, a transaction of
    // 20,000 rows left a chain of 40,000 versions of that row, each move walking it: 33 s). Counted, not timed.
    const client = await database.pool.connect();
    try {
      // The backend's counts not yet reported to the server show here too: the statement's are the difference.
      const moves = async (): Promise<number> => Number((await client.query<{ moves: string }>(
        `select n_tup_ins + n_tup_upd as moves from pg_stat_xact_user_tables where schemaname = current_schema() and relname = 'tenant_stored_bytes'`,
      )).rows[0]?.moves);
      await client.query('begin');
      const before = await moves();
      await client.query(`insert into job_artifacts (job_id, sha256, size) select 'j4', 'many-' || i, 2 from generate_series(1, 500) i`);
      const moved = (await moves()) - before;
      assert.ok(moved <= 2, `the counter row moved ${moved} times for 500 rows`);
      await client.query('commit');
    } finally {
      client.release();
    }
    assert.equal(await store.tenantStoredBytes('a'), 15 + 500 * 2);

    // Deleting jobs uncounts what no other job of the tenant holds.
    await store.deleteJob('j2');
    assert.equal(await store.tenantStoredBytes('a'), 15 + 1_000 - 3, 'j2\'s own file goes; old (j1) and s (j3) stay');
    await store.deleteJob('j3');
    assert.equal(await store.tenantStoredBytes('a'), 5 + 1_000);
    assert.equal(await store.tenantStoredBytes('b'), 12);
    await store.close();
  } finally {
    await drop();
  }
});

void test('PostgresStore: tenants are paged in the database\'s own order, each once, under a collation that is not by code point', async (t) => {
  if (!requireOrSkip(t, unavailable === undefined, unavailable ?? '')) return;
  // en-US puts 'beta' before 'Zed', code points put it after.
  const { url, drop } = await freshDatabase({ withOptions: `template template0 locale_provider icu icu_locale 'en-US'` });
  const database = await openPostgresDatabase(url);
  const store = await PostgresStore.open(database);
  try {
    await store.appendCredit({ tenantId: 'beta', kind: 'grant', amount: 5, key: 'grant:beta', jobId: null, reason: 'trial', at: 1 });
    await store.setQuotas('Zed', { concurrentJobs: 1 });
    for (const tenantId of ['Acme', 'Zed']) await store.createJob(newJob({ tenantId }), 1_000);
    const listed: string[] = [];
    for (let after: string | undefined, round = 0; round < 5; round++) {
      const page = await store.listTenants({ ...(after === undefined ? {} : { after }), limit: 1 });
      if (page.length === 0) break;
      listed.push(...page.map((account) => account.tenantId));
      after = page.at(-1)?.tenantId;
    }
    assert.deepEqual([...listed].sort(), ['Acme', 'Zed', 'beta'], `listed: ${listed.join(', ')}`);
    assert.equal(listed.length, 3);
  } finally {
    await store.close();
    await database.close();
    await drop();
  }
});
