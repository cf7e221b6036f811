// The statements the embedded queue runs around its claims: the probe for exhausted leases runs
// only when it can find something, and it still fails such a task at its lease's end; a claim
// that would find nothing right after one that took the last due task is not asked.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type Database from 'better-sqlite3';
import { DRAINED_HINT_MS } from '../../src/queue/drained-hint.ts';
import { LEASE_CHECK_MS } from '../../src/queue/lease-check.ts';
import { SqliteQueue } from '../../src/queue/sqlite-queue.ts';
import { openSqliteDatabase, type SqliteDatabase } from '../../src/sql/sqlite-database.ts';

/** Counts the statements run on the database whose SQL text passes `match`. */
function countStatements(database: SqliteDatabase, match: (sql: string) => boolean): { count: () => number } {
  let n = 0;
  const sqlite = database.sqlite;
  const prepare = sqlite.prepare.bind(sqlite);
  sqlite.prepare = ((source: string) => {
    const statement = prepare(source);
    if (!match(source)) return statement;
    return new Proxy(statement, {
      get(target, key, receiver) {
        const value: unknown = Reflect.get(target, key, receiver);
        if (typeof value !== 'function' || !['run', 'get', 'all', 'iterate'].includes(String(key))) return value;
        return (...args: unknown[]): unknown => {
          n++;
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  }) as Database.Database['prepare'];
  return { count: () => n };
}

const isLeaseProbe = (source: string): boolean => /^select "seq" from "tasks" where status = 'leased'/.test(source);

function manualClock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let at = start;
  return { now: () => at, advance: (ms) => (at += ms) };
}

const task = (id: string, maxAttempts = 3) => ({ id, jobId: 'j', kind: 'k', payload: null, maxAttempts });

void test('SqliteQueue probes for exhausted leases once per interval, not before every claim', async () => {
  const database = openSqliteDatabase(':memory:');
  const clock = manualClock();
  try {
    const probes = countStatements(database, isLeaseProbe);
    const queue = await SqliteQueue.open(database, { clock: clock.now });
    await queue.enqueue(Array.from({ length: 20 }, (_, i) => task(`t${i}`)));
    for (let i = 0; i < 20; i++) {
      const leased = await queue.claim({ workerId: 'w', leaseMs: 30_000 });
      assert.ok(leased);
      assert.equal(await queue.complete(leased), true);
      clock.advance(1);
    }
    assert.equal(await queue.claim({ workerId: 'w', leaseMs: 30_000 }), undefined);
    assert.equal(probes.count(), 1, '21 claims within one interval probe once');
    clock.advance(LEASE_CHECK_MS);
    assert.equal(await queue.claim({ workerId: 'w', leaseMs: 30_000 }), undefined);
    assert.equal(probes.count(), 2, 'a claim an interval later probes again');
  } finally {
    await database.close();
  }
});

void test('SqliteQueue fails a last-attempt lease of its own at the lease end, within the probe interval', async () => {
  const database = openSqliteDatabase(':memory:');
  const clock = manualClock();
  try {
    const queue = await SqliteQueue.open(database, { clock: clock.now });
    await queue.enqueue([task('doomed', 1)]);
    assert.ok(await queue.claim({ workerId: 'dies', leaseMs: 100 }));
    clock.advance(99);
    assert.equal(await queue.claim({ workerId: 'w', leaseMs: 30_000 }), undefined);
    assert.equal((await queue.counts()).leased, 1, 'the lease still holds');
    clock.advance(1);
    assert.equal(await queue.claim({ workerId: 'w', leaseMs: 30_000 }), undefined);
    assert.equal((await queue.counts()).failed, 1, 'failed at its lease end, sooner than the interval');
  } finally {
    await database.close();
  }
});

void test("SqliteQueue fails another process's exhausted lease within the probe interval", async () => {
  const database = openSqliteDatabase(':memory:');
  const clock = manualClock();
  try {
    const queue = await SqliteQueue.open(database, { clock: clock.now });
    // Another queue on the same database stands for another process: its lease is not seen coming.
    const other = await SqliteQueue.open(database, { clock: clock.now });
    await queue.enqueue([task('doomed', 1)]);
    assert.equal(await queue.claim({ workerId: 'w', leaseMs: 30_000, kinds: ['none'] }), undefined);
    assert.ok(await other.claim({ workerId: 'dies', leaseMs: 100 }));
    clock.advance(LEASE_CHECK_MS);
    assert.equal(await queue.claim({ workerId: 'w', leaseMs: 30_000 }), undefined);
    assert.equal((await queue.counts()).failed, 1);
  } finally {
    await database.close();
  }
});

const isClaim = (source: string): boolean => /^update "tasks" set "status" = \?, "attempts" = attempts \+ 1/.test(source);

void test('SqliteQueue: the claim after the one that took the last due task asks nothing until new work is told', async () => {
  const database = openSqliteDatabase(':memory:');
  const clock = manualClock();
  try {
    const claims = countStatements(database, isClaim);
    const queue = await SqliteQueue.open(database, { clock: clock.now });
    await queue.enqueue([task('a'), task('b')]);
    const a = await queue.claim({ workerId: 'w', leaseMs: 30_000 });
    const b = await queue.claim({ workerId: 'w', leaseMs: 30_000 });
    assert.deepEqual([a?.id, b?.id], ['a', 'b']);
    assert.equal(await queue.claim({ workerId: 'w', leaseMs: 30_000 }), undefined);
    assert.equal(claims.count(), 2, 'the claim of b said nothing more was due');
    await queue.enqueue([task('c')]);
    assert.equal((await queue.claim({ workerId: 'w', leaseMs: 30_000 }))?.id, 'c', 'an enqueue voids the hint');
    assert.ok(b);
    assert.equal(await queue.fail(b, { code: 'internal', message: 'boom' }, 0), 'retrying');
    assert.equal((await queue.claim({ workerId: 'w', leaseMs: 30_000 }))?.id, 'b', 'a retry voids it');
    assert.equal(claims.count(), 4);
  } finally {
    await database.close();
  }
});

void test('SqliteQueue sees work added by another process within the hint time', async () => {
  const database = openSqliteDatabase(':memory:');
  const clock = manualClock();
  try {
    const queue = await SqliteQueue.open(database, { clock: clock.now });
    const other = await SqliteQueue.open(database, { clock: clock.now });
    await queue.enqueue([task('a')]);
    assert.equal((await queue.claim({ workerId: 'w', leaseMs: 30_000 }))?.id, 'a');
    await other.enqueue([task('b')]);
    clock.advance(DRAINED_HINT_MS);
    assert.equal((await queue.claim({ workerId: 'w', leaseMs: 30_000 }))?.id, 'b');
  } finally {
    await database.close();
  }
});

void test('SqliteQueue: the hint ends when the lease of the task it came with runs out', async () => {
  const database = openSqliteDatabase(':memory:');
  const clock = manualClock();
  try {
    const queue = await SqliteQueue.open(database, { clock: clock.now });
    await queue.enqueue([task('a')]);
    assert.equal((await queue.claim({ workerId: 'dies', leaseMs: 50 }))?.attempts, 1);
    clock.advance(50);
    assert.equal((await queue.claim({ workerId: 'w', leaseMs: 30_000 }))?.attempts, 2, 'taken over at once');
  } finally {
    await database.close();
  }
});
