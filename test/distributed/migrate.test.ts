import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { freshDatabase } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { runReam, type ReamRun } from '../support/run-ream.ts';
import { postgresUnavailable } from '../support/services.ts';

const missing = await postgresUnavailable();

function ream(args: string[], env: Record<string, string> = {}): Promise<ReamRun> {
  return runReam(args, { env });
}

void test('ream migrate creates the PostgreSQL tables once; a second run has nothing to do', { timeout: 900_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const database = await freshDatabase();
  try {
    const first = await ream(['migrate', '--database-url', database.url]);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^migrated .*: .+/);
    const client = new pg.Client({ connectionString: database.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string }>("select table_name as name from information_schema.tables where table_schema = 'public'");
      const tables = new Set(rows.map((r) => r.name));
      for (const table of ['jobs', 'documents', 'events', 'workers', 'uploads', 'search_pages', 'search_records', 'search_fields', 'analysis_cache', 'analysis_usage', 'analysis_budgets']) assert.ok(tables.has(table), `table ${table} in ${[...tables].join(', ')}`);
      assert.ok(!tables.has('tasks'), 'no queue table: the distributed queue is BullMQ on Redis');
    } finally {
      await client.end();
    }
    const second = await ream(['migrate'], { REAM_DATABASE_URL: database.url });
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /already up to date/);

    // API keys of a distributed deployment live in its PostgreSQL, where every instance reads them.
    const created = await ream(['keys', 'create', '--tenant', 'acme', '--name', 'ci'], { REAM_DATABASE_URL: database.url });
    assert.equal(created.code, 0, created.stderr);
    assert.match(created.stdout, /^ream_\S+\n$/);
    const listed = await ream(['keys', 'list', '--database-url', database.url]);
    assert.match(listed.stdout, /\tacme\tuser\t.*\tactive\tci\n/);
  } finally {
    await database.drop();
  }
});

void test('ream migrate and ream worker refuse to start without what they need, with a clear message', async () => {
  const env = { REAM_DATABASE_URL: '', REAM_REDIS_URL: '', REAM_S3_BUCKET: '' };
  const migrate = await ream(['migrate'], env);
  assert.equal(migrate.code, 2);
  assert.match(migrate.stderr, /needs --database-url or REAM_DATABASE_URL .*\[validation_failed\]/);
  const worker = await ream(['worker'], env);
  assert.equal(worker.code, 2);
  assert.match(worker.stderr, /ream worker needs a distributed deployment/);
  const half = await ream(['worker', '--redis-url', 'redis://127.0.0.1:6379'], env);
  assert.equal(half.code, 2);
  assert.match(half.stderr, /missing --database-url \(REAM_DATABASE_URL\), --s3-bucket \(REAM_S3_BUCKET\)/);
  const wrong = await ream(['worker', '--redis-url', 'http://x', '--database-url', 'postgres://x/y', '--s3-bucket', 'b'], env);
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--redis-url must start with redis:\/\/ or rediss:\/\//);
});
