import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { toReamError } from '../../src/errors.ts';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';

// A transaction that fills the disk: SQLite rolls it back itself on SQLITE_FULL, and the error
// the caller gets is that one (an io_error saying there is no space), not the failed ROLLBACK
// after it ("cannot rollback - no transaction is active", an internal error).

test('a transaction that finds the database full fails with SQLITE_FULL, and the connection works on', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-sqlite-full-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const db = openSqliteDatabase(join(dir, 'full.db'));
  t.after(() => db.close());
  await sql`create table t (b blob)`.execute(db.kysely);
  // A database that may grow by two pages only: as a full disk does, SQLite answers SQLITE_FULL.
  db.sqlite.pragma(`max_page_count = ${Number(db.sqlite.pragma('page_count', { simple: true })) + 2}`);
  const error = await db.kysely.transaction().execute(async (trx) => {
    for (let i = 0; i < 5; i++) await sql`insert into t values (randomblob(100000))`.execute(trx);
  }).then(() => undefined, (thrown: unknown) => thrown);
  assert.equal((error as { code?: string } | undefined)?.code, 'SQLITE_FULL', String(error));
  assert.equal(toReamError(error).code, 'io_error');
  assert.equal(db.sqlite.inTransaction, false);
  // Nothing of it was kept, and the next transaction runs.
  await db.kysely.transaction().execute(async (trx) => sql`insert into t values (x'00')`.execute(trx));
  const rows = await sql<{ n: number }>`select count(*) as n from t`.execute(db.kysely);
  assert.equal(rows.rows[0]?.n, 1);
});
