// A fresh data dir opened from two places at once (two processes, or two stores of one process)
// is migrated once: one opener waits for the other's migrations instead of failing with "table
// documents already exists".
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { sql } from 'kysely';
import { SqliteQueue } from '../../src/queue/sqlite-queue.ts';
import { SqliteSearch } from '../../src/search/sqlite-search.ts';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';

async function openAll(database: SqliteDatabase): Promise<void> {
  await SqliteStore.open(database);
  await SqliteQueue.open(database);
  await SqliteSearch.open(database);
}

async function ledgerRows(path: string): Promise<number> {
  const database = openSqliteDatabase(path);
  try {
    const { rows } = await sql<{ n: number }>`select (select count(*) from documents_migrations) + (select count(*) from queue_migrations) + (select count(*) from search_migrations) as n`.execute(database.kysely);
    return Number(rows[0]?.n);
  } finally {
    await database.close();
  }
}

test('two stores of one process opening a fresh data dir at once both open, and migrate it once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-first-open-'));
  try {
    for (let round = 0; round < 5; round++) {
      const path = join(dir, `ream-${round}.db`);
      const databases = [openSqliteDatabase(path), openSqliteDatabase(path), openSqliteDatabase(path)];
      try {
        const opened = await Promise.allSettled(databases.map(openAll));
        assert.deepEqual(opened.filter((result) => result.status === 'rejected'), [], `round ${round}`);
      } finally {
        for (const database of databases) await database.close();
      }
      const alone = join(dir, `alone-${round}.db`);
      const single = openSqliteDatabase(alone);
      await openAll(single).finally(() => single.close());
      // The same migrations recorded as one opener alone records: none twice, none missing.
      assert.equal(await ledgerRows(path), await ledgerRows(alone));
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

function openInChild(path: string, at: number): Promise<{ status: number | null; out: string }> {
  const script = `
    const { openSqliteDatabase } = await import(${JSON.stringify(new URL('../../src/sql/sqlite-database.ts', import.meta.url).href)});
    const { SqliteStore } = await import(${JSON.stringify(new URL('../../src/store/sqlite-store.ts', import.meta.url).href)});
    const { SqliteQueue } = await import(${JSON.stringify(new URL('../../src/queue/sqlite-queue.ts', import.meta.url).href)});
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, ${at} - Date.now())));
    const database = openSqliteDatabase(${JSON.stringify(path)});
    try { await SqliteStore.open(database); await SqliteQueue.open(database); console.log('opened'); }
    catch (error) { console.log(String(error)); process.exitCode = 1; }
    finally { await database.close(); }`;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--experimental-strip-types', '--no-warnings', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('close', (status) => resolve({ status, out: out.trim() }));
  });
}

test('processes opening a fresh data dir at once all open it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-first-open-'));
  try {
    for (let round = 0; round < 2; round++) {
      const path = join(dir, `ream-${round}.db`);
      // Each child loads its modules first, then all open at the same moment.
      const at = Date.now() + 3_000;
      const results = await Promise.all([openInChild(path, at), openInChild(path, at), openInChild(path, at)]);
      assert.deepEqual(results, [{ status: 0, out: 'opened' }, { status: 0, out: 'opened' }, { status: 0, out: 'opened' }], `round ${round}`);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
