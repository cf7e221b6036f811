// A request that stored a document first and takes it back (its submit failed) keeps it when
// another request stored the same bytes again since, even in the same millisecond or from a
// process whose clock is behind: every storing moves the record's mark on.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import type { Store } from '../../src/store/port.ts';
import { PostgresStore } from '../../src/store/postgres-store.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { requireOrSkip } from '../support/env.ts';
import { freshSchema } from '../support/postgres-schema.ts';
import { postgresUnavailable } from '../support/services.ts';

const missing = await postgresUnavailable();

async function withStore(flavor: 'postgres' | 'sqlite', use: (store: Store) => Promise<void>): Promise<void> {
  if (flavor === 'postgres') {
    const { database, drop } = await freshSchema();
    try {
      await use(await PostgresStore.open(database));
    } finally {
      await drop();
    }
    return;
  }
  const dir = await mkdtemp(join(tmpdir(), 'ream-stored-again-'));
  const database = openSqliteDatabase(join(dir, 'ream.db'));
  try {
    await use(await SqliteStore.open(database));
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
}

for (const flavor of ['postgres', 'sqlite'] as const) {
  void test(`${flavor}: a document stored again in the same millisecond, or at an earlier clock, is not taken back by its first storer`, async (t) => {
    if (flavor === 'postgres' && !requireOrSkip(t, missing === undefined, missing ?? '')) return;
    await withStore(flavor, async (store) => {
      const tenantId = randomUUID();
      const put = (sha: string, now: number) => store.putDocument({ id: randomUUID(), tenantId, sha256: sha, name: 'a.txt', size: 5, mediaType: 'text/plain' }, now);

      const first = await put('a'.repeat(64), 1_000);
      const again = await put('a'.repeat(64), 1_000);
      assert.equal(again.id, first.id, 'the second storer is answered with the same document');
      assert.equal((await store.deleteDocument(first.id, 1_001, first.createdAt)).status, 'in_use', 'stored again in the same ms: kept');
      assert.ok(await store.getDocument(first.id));

      const other = await put('b'.repeat(64), 5_000);
      await put('b'.repeat(64), 4_990);
      assert.equal((await store.deleteDocument(other.id, 5_001, other.createdAt)).status, 'in_use', 'stored again by a clock 10 ms behind: kept');

      const alone = await put('c'.repeat(64), 7_000);
      assert.equal((await store.deleteDocument(alone.id, 7_001, alone.createdAt)).status, 'deleted', 'stored by one request only: it goes');
    });
  });
}
