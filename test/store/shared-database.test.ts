import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteQueue } from '../../src/queue/sqlite-queue.ts';
import { SqliteSearch } from '../../src/search/sqlite-search.ts';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { SqliteStore } from '../../src/store/sqlite-store.ts';

void test('store, queue and search share one database: concurrent transactions stay apart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-shared-'));
  const database = openSqliteDatabase(join(dir, 'ream.db'));
  try {
    const [store, queue, search] = [await SqliteStore.open(database), await SqliteQueue.open(database), await SqliteSearch.open(database)];
    await store.createJob({ id: 'j', tenantId: 't', key: null, pipeline: 'p', options: {}, priority: 0 }, 1);
    const progress = { documentsDone: 0, documentsTotal: 0, pagesDone: 0, pagesTotal: 0, percent: 0, etaSeconds: null };
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) {
      work.push(store.appendEvent({ type: 'job.progress', jobId: 'j', tenantId: 't', at: i, progress }));
      work.push(queue.enqueueFlow({ id: `p${i}`, jobId: 'j', kind: 'merge', payload: null }, [{ id: `c${i}`, jobId: 'j', kind: 'k', payload: null }]));
      work.push(search.indexDocument('t', `d${i % 5}`, [{ page: 1, text: `word${i % 5} common` }]));
      // A failing transaction (unknown job) must roll back only itself.
      work.push(store.appendEvent({ type: 'job.progress', jobId: 'missing', tenantId: 't', at: i, progress }).catch(() => undefined));
    }
    await Promise.all(work);
    assert.deepEqual((await store.listEvents('j', 0)).map((e) => e.seq), Array.from({ length: 50 }, (_, i) => i + 1));
    const counts = await queue.counts('j');
    assert.deepEqual([counts.waiting, counts.queued], [50, 50]);
    assert.equal((await search.search({ tenantId: 't', q: 'common' })).length, 5);
    // The tables of each adapter and their own migration bookkeeping.
    const tables = database.sqlite.prepare("select name from sqlite_master where type = 'table' and name like '%migrations'").pluck().all();
    const ledgers = ['documents', 'jobs', 'job_documents', 'events', 'api_keys', 'workers', 'uploads', 'audit', 'tenants', 'metrics', 'queue', 'search'];
    assert.deepEqual(new Set(tables), new Set(ledgers.map((port) => `${port}_migrations`)));
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
});
