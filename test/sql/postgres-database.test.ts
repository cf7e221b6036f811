// A PostgreSQL connection dropped by the server while it is checked out (a transaction between
// statements): the statement fails, the process lives on, and the next query gets a new one.
// Before, the client's unhandled 'error' event ended the process: every worker at once.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { sql } from 'kysely';
import { openPostgresDatabase } from '../../src/sql/postgres-database.ts';
import { requireOrSkip } from '../support/env.ts';
import { postgresUnavailable, TEST_DATABASE_URL } from '../support/services.ts';

test('a backend terminated in the middle of a transaction fails that transaction only', async (t: TestContext) => {
  const why = await postgresUnavailable();
  if (!requireOrSkip(t, why === undefined, why ?? '')) return;
  const database = await openPostgresDatabase(TEST_DATABASE_URL, { max: 2 });
  const admin = await openPostgresDatabase(TEST_DATABASE_URL, { max: 1 });
  try {
    const failed = database.kysely.transaction().execute(async (trx) => {
      const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
      await sql`select pg_terminate_backend(${rows[0]?.pid ?? 0})`.execute(admin.kysely);
      // Give the client time to hear of it (its 'error' event) before its next statement.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await sql`select 1`.execute(trx);
    });
    await assert.rejects(failed);
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(database.kysely);
    assert.equal(rows[0]?.one, 1, 'the next query runs on a new connection');
  } finally {
    await admin.close();
    await database.close();
  }
});
