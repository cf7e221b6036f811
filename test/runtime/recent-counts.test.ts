// The counts a job's events reuse for a moment (src/runtime/engine/recent-counts.ts): how often
// the store is read, and that a quiet job is refreshed so the last figure a follower saw is not
// left behind. Timers and the clock are node:test's mock timers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COUNTS_REUSE_MS, RecentCounts, REUSE_FROM_ROWS } from '../../src/runtime/engine/recent-counts.ts';
import type { JobCounts } from '../../src/store/port.ts';

/** A job of `documents` one-chunk documents, `documentsSucceeded` of them done. */
function countsOf(documentsSucceeded: number, documents = REUSE_FROM_ROWS): JobCounts {
  return {
    documentsTotal: documents, documentsSucceeded, documentsPartial: 0, documentsFailed: 0, documentsCancelled: 0,
    pagesTotal: documents, documentsUncounted: 0, pagesDone: documentsSucceeded, chunksTotal: documents, chunksSucceeded: documentsSucceeded, chunksFailed: 0,
  };
}

/** A job (big enough for its counts to be reused, by default) whose stored counts grow by one document each time they are read. */
function setUp(documents = REUSE_FROM_ROWS) {
  let reads = 0;
  const refreshed: string[] = [];
  const recent = new RecentCounts<{ id: string }>(
    () => Promise.resolve(countsOf(++reads, documents)),
    (job) => void refreshed.push(job.id),
  );
  return { recent, refreshed, reads: () => reads };
}

void test('counts are reused within the window unless asked fresh, and read again after it', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000 });
  const { recent, reads } = setUp();
  const job = { id: 'j1' };
  assert.equal((await recent.get(job, false)).documentsSucceeded, 1);
  t.mock.timers.tick(COUNTS_REUSE_MS - 1);
  assert.equal((await recent.get(job, false)).documentsSucceeded, 1, 'reused within the window');
  assert.equal((await recent.get(job, true)).documentsSucceeded, 2, 'a job event counts afresh');
  assert.equal((await recent.get({ id: 'j2' }, false)).documentsSucceeded, 3, 'per job');
  t.mock.timers.tick(COUNTS_REUSE_MS);
  assert.equal((await recent.get(job, false)).documentsSucceeded, 4, 'read again once the window has passed');
  assert.equal(reads(), 4);
  recent.clear();
});

void test('a small job counts afresh for every event: each step of its progress shows', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000 });
  const { recent, refreshed, reads } = setUp(10);
  const job = { id: 'j1' };
  assert.equal((await recent.get(job, false)).documentsSucceeded, 1);
  assert.equal((await recent.get(job, false)).documentsSucceeded, 2, 'not reused within the window');
  t.mock.timers.tick(10 * COUNTS_REUSE_MS);
  assert.equal(reads(), 2);
  assert.deepEqual(refreshed, [], 'nothing reused: nothing to refresh');
  recent.clear();
});

void test('an event that went out with reused counts is followed by a refresh once they are a window old', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000 });
  const { recent, refreshed } = setUp();
  const job = { id: 'j1' };
  await recent.get(job, false);
  t.mock.timers.tick(200);
  assert.deepEqual(refreshed, [], 'nothing reused: nothing to refresh');

  await recent.get(job, false); // read afresh (the window had passed)
  t.mock.timers.tick(10);
  await recent.get(job, false); // reused
  t.mock.timers.tick(COUNTS_REUSE_MS - 20);
  assert.deepEqual(refreshed, [], 'not before the counts are a window old');
  t.mock.timers.tick(10);
  assert.deepEqual(refreshed, ['j1']);
  t.mock.timers.tick(10 * COUNTS_REUSE_MS);
  assert.deepEqual(refreshed, ['j1'], 'once');
  recent.clear();
});

void test('no refresh when the job counted afresh meanwhile; a reuse of those counts is watched in its turn', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000 });
  const { recent, refreshed } = setUp();
  const job = { id: 'j1' };
  await recent.get(job, false);
  t.mock.timers.tick(10);
  await recent.get(job, false); // reused: a check is due at 1,100
  t.mock.timers.tick(60);
  await recent.get(job, true); // fresh at 1,070
  t.mock.timers.tick(40); // 1,110: the check finds fresh counts nobody reused
  assert.deepEqual(refreshed, []);
  await recent.get(job, false); // reuses the counts of 1,070: due at 1,170
  t.mock.timers.tick(59);
  assert.deepEqual(refreshed, []);
  t.mock.timers.tick(1);
  assert.deepEqual(refreshed, ['j1']);
  recent.clear();
});

void test('forget and clear drop the counts and their pending refresh', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000 });
  const { recent, refreshed, reads } = setUp();
  for (const id of ['j1', 'j2']) {
    await recent.get({ id }, false);
    await recent.get({ id }, false);
  }
  recent.forget('j1');
  t.mock.timers.tick(COUNTS_REUSE_MS);
  assert.deepEqual(refreshed, ['j2']);
  await recent.get({ id: 'j2' }, false);
  await recent.get({ id: 'j2' }, false);
  recent.clear();
  t.mock.timers.tick(COUNTS_REUSE_MS);
  assert.deepEqual(refreshed, ['j2']);
  assert.equal(reads(), 3);
});

void test('counts slow to read are reused the longer: counting takes at most about a tenth of the time', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 1_000 });
  let reads = 0;
  // Each read takes 50 ms, as in a job of 100,000 files.
  const read = (): Promise<ReturnType<typeof countsOf>> => {
    t.mock.timers.tick(50);
    return Promise.resolve(countsOf(++reads, 100_000));
  };
  // A refresh sends a job event, which counts afresh (as JobEvents does).
  const recent: RecentCounts<{ id: string }> = new RecentCounts<{ id: string }>(read, (job) => void recent.get(job, true));
  const job = { id: 'j1' };
  // An event every 10 ms for 10 s, each given counts.
  for (let at = 0; at < 10_000; at += 10) {
    await recent.get(job, false);
    t.mock.timers.tick(10);
  }
  // Two reads of 50 ms a second at most (an event's and a refresh's, 20 × 50 ms apart): a tenth
  // of the time, where reads due every 100 ms took a third of it.
  assert.ok(reads <= 22, `${reads} reads in 10 s`);
  assert.ok(reads >= 8, `still read about once a second: ${reads}`);
  const before = reads;
  t.mock.timers.tick(2_000); // the longest reuse
  assert.equal(reads, before + 1, 'the last reused counts are refreshed once they are as old as their reuse lasts');
  t.mock.timers.tick(20_000);
  assert.equal(reads, before + 1, 'once');
  recent.clear();
});
