import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { SqliteQueue } from '../../src/queue/sqlite-queue.ts';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { queueConformance } from '../conformance/queue.ts';

async function tempDatabase(): Promise<{ database: SqliteDatabase; path: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'ream-queue-'));
  const path = join(dir, 'ream.db');
  return { database: openSqliteDatabase(path), path, remove: () => rm(dir, { recursive: true, force: true }) };
}

queueConformance('SqliteQueue (file, WAL)', async () => {
  const { database, remove } = await tempDatabase();
  const queue = await SqliteQueue.open(database);
  return {
    queue,
    async cleanup() {
      await queue.close();
      await database.close();
      await remove();
    },
  };
});

const claim = { workerId: 'w', leaseMs: 30_000 };
const boom = { code: 'internal' as const, message: 'boom' };

void test('SqliteQueue.releaseAllLeases requeues every lease at once; a last attempt fails', async () => {
  const { database, remove } = await tempDatabase();
  try {
    const queue = await SqliteQueue.open(database);
    await queue.enqueueFlow({ id: 'p', jobId: 'j', kind: 'merge', payload: null }, [
      { id: 'c1', jobId: 'j', kind: 'k', payload: null },
      { id: 'c2', jobId: 'j', kind: 'k', payload: null, maxAttempts: 1 },
    ]);
    await queue.claim(claim);
    await queue.claim(claim);
    assert.equal(await queue.releaseAllLeases(), 2);
    const counts = await queue.counts();
    assert.equal(counts.queued, 1);
    assert.equal(counts.failed, 1);
    assert.equal(counts.leased, 0);
    const again = await queue.claim(claim);
    assert.equal(again?.id, 'c1');
    assert.equal(again.attempts, 2, 'the interrupted attempt counts');
    assert.equal(await queue.complete(again), true);
    assert.equal((await queue.claim(claim))?.id, 'p', 'the failed child released the parent');
    assert.equal(await queue.releaseAllLeases(), 1);
    assert.equal(await queue.releaseAllLeases(), 0);
    await database.close();
  } finally {
    await remove();
  }
});

void test('SqliteQueue: tasks and leases survive a reopen (crash recovery on the same file)', async () => {
  const { database, path, remove } = await tempDatabase();
  try {
    const queue = await SqliteQueue.open(database);
    await queue.enqueue([{ id: 'a', jobId: 'j', kind: 'k', payload: { x: 1 } }, { id: 'b', jobId: 'j', kind: 'k', payload: null }]);
    const leased = await queue.claim(claim);
    assert.equal(leased?.id, 'a');
    await database.close(); // the process "dies" holding a lease
    const reopened = openSqliteDatabase(path);
    const recovered = await SqliteQueue.open(reopened);
    assert.equal(await recovered.releaseAllLeases(), 1);
    const ids = [(await recovered.claim(claim))?.id, (await recovered.claim(claim))?.id];
    assert.deepEqual(ids, ['a', 'b']);
    await reopened.close();
  } finally {
    await remove();
  }
});

/** A clock the test moves: leases and retention expire without waiting them out. */
function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let at = start;
  return { now: () => at, advance: (ms) => (at += ms) };
}

void test('SqliteQueue with a clock: a lease expires when the clock passes it, and its holder loses the task', async () => {
  const database = openSqliteDatabase(':memory:');
  const clock = manualClock();
  try {
    const queue = await SqliteQueue.open(database, { clock: clock.now });
    await queue.enqueue([{ id: 'a', jobId: 'j', kind: 'k', payload: null, maxAttempts: 3 }]);
    const first = await queue.claim({ workerId: 'dies', leaseMs: 30_000 });
    assert.ok(first);
    clock.advance(29_999);
    assert.equal(await queue.claim({ workerId: 'takes-over', leaseMs: 30_000 }), undefined, 'the lease still holds');
    clock.advance(2);
    const second = await queue.claim({ workerId: 'takes-over', leaseMs: 30_000 });
    assert.equal(second?.id, 'a');
    assert.equal(second?.attempts, 2);
    assert.equal(await queue.complete(first), false, 'the stale holder loses');
    assert.ok(second);
    assert.equal(await queue.complete(second), true);
  } finally {
    await database.close();
  }
});

void test('SqliteQueue.purgeFinished deletes ended tasks older than the cut-off only', async () => {
  const { database, remove } = await tempDatabase();
  const clock = manualClock();
  try {
    const queue = await SqliteQueue.open(database, { clock: clock.now });
    await queue.enqueue(['a', 'b', 'c'].map((id) => ({ id, jobId: 'j', kind: 'k', payload: null })));
    const a = await queue.claim(claim);
    const b = await queue.claim(claim);
    assert.ok(a && b);
    await queue.complete(a);
    await queue.fail(b, boom);
    assert.equal(await queue.purgeFinished(60_000), 0, 'nothing is old enough yet');
    clock.advance(60_001);
    assert.equal(await queue.purgeFinished(60_000), 2);
    const counts = await queue.counts();
    assert.deepEqual([counts.queued, counts.completed, counts.failed], [1, 0, 0]);
    assert.equal(await queue.enqueue([{ id: 'a', jobId: 'j', kind: 'k', payload: null }]), 1, 'a purged id no longer dedupes');
    await database.close();
  } finally {
    await remove();
  }
});

void test('SqliteQueue.waitForWork wakes when a delayed retry becomes due', async () => {
  const database = openSqliteDatabase(':memory:');
  try {
    const queue = await SqliteQueue.open(database);
    await queue.enqueue([{ id: 'a', jobId: 'j', kind: 'k', payload: null }]);
    const leased = await queue.claim(claim);
    assert.ok(leased);
    assert.equal(await queue.fail(leased, boom, 150), 'retrying');
    // The wait would last a minute: waking well before that is the retry's doing, not before it is due.
    const started = Date.now();
    await queue.waitForWork(60_000);
    const waited = Date.now() - started;
    assert.ok(waited >= 100 && waited < 30_000, `woke after ${waited} ms`);
    assert.equal((await queue.claim(claim))?.id, 'a');
  } finally {
    await database.close();
  }
});

void test('SqliteQueue rejects malformed tasks with validation_failed', async () => {
  const database = openSqliteDatabase(':memory:');
  try {
    const queue = await SqliteQueue.open(database);
    for (const bad of [{ maxAttempts: 0 }, { priority: 1.5 }, { id: '' }, { runAt: Number.NaN }]) {
      await assert.rejects(
        queue.enqueue([{ id: 'x', jobId: 'j', kind: 'k', payload: null, ...bad }]),
        (error: unknown) => (error as { code?: string }).code === 'validation_failed',
      );
    }
  } finally {
    await database.close();
  }
});
