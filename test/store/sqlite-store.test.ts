import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';
import { storeConformance } from '../conformance/store.ts';

storeConformance('SqliteStore (file, WAL)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-store-'));
  const database = openSqliteDatabase(join(dir, 'ream.db'));
  const store = await SqliteStore.open(database);
  return {
    store,
    async cleanup() {
      await store.close();
      await database.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

storeConformance('SqliteStore (:memory:)', async () => {
  const database = openSqliteDatabase(':memory:');
  const store = await SqliteStore.open(database);
  return { store, cleanup: () => database.close() };
});

void test('SqliteStore: opening twice migrates once and keeps the data', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-store-'));
  try {
    const path = join(dir, 'ream.db');
    const first = openSqliteDatabase(path);
    const store = await SqliteStore.open(first);
    await store.createJob({ id: 'j1', tenantId: 't', key: null, pipeline: 'p', options: {}, priority: 0 }, 1);
    await first.close();
    const second = openSqliteDatabase(path);
    const reopened = await SqliteStore.open(second);
    assert.equal((await reopened.getJob('j1'))?.id, 'j1');
    assert.equal(second.sqlite.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(second.sqlite.pragma('foreign_keys', { simple: true }), 1);
    await second.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
