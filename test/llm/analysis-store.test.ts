import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { MemoryAnalysisStore } from '../../src/analyzers/store/memory-analysis-store.ts';
import type { AnalysisStore } from '../../src/analyzers/store/port.ts';
import { RESERVATION_LEASE_MS, SqlAnalysisStore } from '../../src/analyzers/store/sql-analysis-store.ts';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { requireOrSkip } from '../support/env.ts';
import { freshSchema } from '../support/postgres-schema.ts';
import { postgresUnavailable } from '../support/services.ts';

/** What every analysis store must do, the same on each adapter. */
async function conformance(store: AnalysisStore): Promise<void> {
  // Cache: first answer kept, JSON round-trip, miss is undefined.
  assert.equal(await store.cached('k'), undefined);
  await store.remember('k', { a: [1, 'two', null] });
  await store.remember('k', { a: 'second' });
  assert.deepEqual(await store.cached('k'), { a: [1, 'two', null] });

  // Usage sums per job, tenant and model.
  await store.record({ jobId: 'j1', tenantId: 't1', model: 'm1', promptTokens: 10, completionTokens: 2, calls: 1, cachedCalls: 0 });
  await store.record({ jobId: 'j1', tenantId: 't1', model: 'm1', promptTokens: 5, completionTokens: 1, calls: 1, cachedCalls: 1 });
  await store.record({ jobId: 'j1', tenantId: 't1', model: 'm2', promptTokens: 3_000_000_000, completionTokens: 0, calls: 1, cachedCalls: 0 });
  await store.record({ jobId: 'j2', tenantId: 't1', model: 'm1', promptTokens: 1, completionTokens: 1, calls: 1, cachedCalls: 0 });
  await store.record({ jobId: 'j3', tenantId: 't2', model: 'm1', promptTokens: 7, completionTokens: 7, calls: 1, cachedCalls: 0 });
  assert.deepEqual(await store.jobUsage('j1'), [
    { model: 'm1', promptTokens: 15, completionTokens: 3, calls: 2, cachedCalls: 1 },
    { model: 'm2', promptTokens: 3_000_000_000, completionTokens: 0, calls: 1, cachedCalls: 0 },
  ]);
  assert.deepEqual((await store.tenantUsage('t1')).find((row) => row.model === 'm1'), { model: 'm1', promptTokens: 16, completionTokens: 4, calls: 3, cachedCalls: 1 });
  assert.deepEqual((await store.totalUsage()).find((row) => row.model === 'm1')?.promptTokens, 23);
  assert.deepEqual(await store.jobUsage('none'), []);

  // Budget: reservations count until settled; a reservation that would exceed is refused.
  const before = Date.now();
  assert.equal(await store.lastReservation('b'), 0);
  assert.equal(await store.reserve('b', 60, 100), true);
  assert.ok(await store.lastReservation('b') >= before, 'when the job last reserved');
  assert.equal(await store.reserve('b', 50, 100), false);
  await store.settle('b', 60, 30); // the call cost 30, not 60
  assert.equal(await store.reserve('b', 70, 100), true);
  assert.equal(await store.reserve('b', 1, 100), false);
  // Racing reservations: exactly as many as fit win.
  const wins = await Promise.all(Array.from({ length: 10 }, () => store.reserve('race', 30, 100)));
  assert.equal(wins.filter(Boolean).length, 3);
  // Reservations never settled (a process killed mid-call) are forgotten when no call can be in flight.
  assert.equal(await store.reserve('killed', 90, 100), true);
  assert.equal(await store.reserve('killed', 20, 100), false);
  await store.releaseReservations();
  assert.equal(await store.reserve('killed', 20, 100), true);
  await store.settle('killed', 20, 20);
  assert.equal(await store.reserve('killed', 81, 100), false, 'what was spent still counts');
  assert.equal(await store.reserve('killed', 80, 100), true);
  // A refused call ends the job's spending: its budget counts as spent, in every process.
  assert.equal(await store.reserve('ended', 30, 100), true);
  await store.settle('ended', 30, 30);
  assert.equal(await store.exhaust('ended', 71, 100), true, '30 spent: 71 more do not fit');
  assert.equal(await store.reserve('ended', 1, 100), false, 'nothing more once exhausted');
  await store.exhaust('fresh', 101, 100);
  assert.equal(await store.reserve('fresh', 1, 100), false);
  assert.equal(await store.reserve('other', 1, 100), true, 'other jobs are not touched');
  // A refusal for calls in flight (their estimates) is not for the budget: nothing is exhausted.
  assert.equal(await store.reserve('busy', 60, 100), true);
  assert.equal(await store.exhaust('busy', 50, 100), false);
  await store.settle('busy', 60, 10);
  assert.equal(await store.reserve('busy', 50, 100), true, '10 spent: 50 fit');
  // What a budget leaves: what was spent only (reservations may settle for less), none once ended.
  assert.equal(await store.budgetLeft('busy', 100), 90, '10 spent, 50 reserved');
  assert.equal(await store.budgetLeft('ended', 100), 0);
  assert.equal(await store.budgetLeft('never-reserved', 100), 100);
  // Which budget stopped a job's calls, for the job to say so when it ends; none for the others.
  assert.deepEqual(await store.budgetStop('ended'), { maxTokens: 100, ended: true });
  assert.equal(await store.budgetStop('busy'), undefined);
  // A call refused for good on its last attempt while others held the rest: a stop, spending untouched.
  await store.markStopped('busy', 100);
  assert.deepEqual(await store.budgetStop('busy'), { maxTokens: 100, ended: false });
  assert.equal(await store.budgetLeft('busy', 100), 90);
  await store.markStopped('ended', 200);
  assert.deepEqual(await store.budgetStop('ended'), { maxTokens: 100, ended: true }, 'the first stop stands');
  // A retry forgets a stop for calls in flight (they are asked again), not a budget spent.
  await store.forgetHeldStop('busy');
  await store.forgetHeldStop('ended');
  await store.forgetHeldStop('never-reserved');
  assert.equal(await store.budgetStop('busy'), undefined);
  assert.equal(await store.budgetLeft('busy', 100), 90);
  assert.deepEqual(await store.budgetStop('ended'), { maxTokens: 100, ended: true });
  assert.equal(await store.budgetStop('never-reserved'), undefined);
  // Answers about a document go with it, and only that tenant's about that content.
  await store.remember('about-1', { quote: 'a' }, { tenantId: 't1', sha256: 'sha-x' });
  await store.remember('about-2', { quote: 'b' }, { tenantId: 't2', sha256: 'sha-x' });
  await store.remember('about-3', { quote: 'c' }, { tenantId: 't1', sha256: 'sha-y' });
  await store.forgetDocument('t1', 'sha-x');
  assert.equal(await store.cached('about-1'), undefined);
  assert.deepEqual(await store.cached('about-2'), { quote: 'b' }, 'another tenant\'s answers stay');
  assert.deepEqual(await store.cached('about-3'), { quote: 'c' }, 'another document\'s answers stay');
}

/** SQL stores: a reservation lapses after its lease when no other was made since (its process died). */
async function leaseLapses(store: SqlAnalysisStore): Promise<void> {
  const start = Date.now();
  assert.equal(await store.reserve('lease', 90, 100, start), true);
  assert.equal(await store.reserve('lease', 20, 100, start + 1_000), false);
  assert.equal(await store.reserve('lease', 20, 100, start + RESERVATION_LEASE_MS - 1), false, 'still held within the lease of the last reservation');
  assert.equal(await store.reserve('lease', 20, 100, start + 1_000 + RESERVATION_LEASE_MS + 1), true, 'lapsed');
  assert.equal(await store.reserve('lease', 81, 100, start + 1_000 + RESERVATION_LEASE_MS + 2), false, 'the new reservation counts');
}

test('memory analysis store', async () => {
  await conformance(new MemoryAnalysisStore());
});

test('SQLite analysis store (embedded), persisting across opens', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-analysis-'));
  try {
    const database = openSqliteDatabase(join(dir, 'ream.db'));
    const store = await SqlAnalysisStore.open(database.kysely, 'sqlite');
    await conformance(store);
    await leaseLapses(store);
    await database.close();
    const reopened = openSqliteDatabase(join(dir, 'ream.db'));
    assert.deepEqual(await (await SqlAnalysisStore.open(reopened.kysely, 'sqlite')).cached('k'), { a: [1, 'two', null] });
    await reopened.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('PostgreSQL analysis store (distributed)', async (t: TestContext) => {
  const why = await postgresUnavailable();
  if (!requireOrSkip(t, why === undefined, why ?? '')) return;
  const schema = await freshSchema();
  try {
    const store = await SqlAnalysisStore.open(schema.database.kysely, 'postgres', schema.database.schema);
    await conformance(store);
    await leaseLapses(store);
  } finally {
    await schema.drop();
  }
});
