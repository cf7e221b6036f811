// A running chunk's pages read (src/runtime/chunk-progress.ts): reported once the chunk has run
// an interval, then at most once an interval, only its own pages, each once; nothing after it ends.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { chunkProgress } from '../../src/runtime/chunk-progress.ts';

const owns = (page: number): boolean => page > 10 && page <= 20;

void test('a chunk that ends within the interval reports nothing', async () => {
  const reports: number[] = [];
  const progress = chunkProgress((n) => Promise.resolve(void reports.push(n)), owns, 200);
  for (let page = 11; page <= 20; page++) progress.onPageRead(page);
  await progress.settle();
  await sleep(300);
  assert.deepEqual(reports, []);
});

void test('pages read are reported after the interval, counted once each, overlap pages left out, then no more than once an interval', async () => {
  const reports: Array<{ n: number; at: number }> = [];
  const started = Date.now();
  const progress = chunkProgress((n) => Promise.resolve(void reports.push({ n, at: Date.now() - started })), owns, 100);
  progress.onPageRead(9); // overlap: not the chunk's
  progress.onPageRead(11);
  progress.onPageRead(11);
  await sleep(150);
  assert.deepEqual(reports.map((r) => r.n), [1]);
  progress.onPageRead(12);
  progress.onPageRead(13);
  progress.onPageRead(21); // overlap after
  await sleep(20);
  assert.equal(reports.length, 1, 'not again within the interval');
  await sleep(150);
  assert.deepEqual(reports.map((r) => r.n), [1, 3]);
  assert.ok((reports[1]?.at ?? 0) - (reports[0]?.at ?? 0) >= 95, 'an interval apart');
  progress.onPageRead(14);
  await progress.settle();
  await sleep(200);
  assert.deepEqual(reports.map((r) => r.n), [1, 3], 'nothing once the chunk ended');
});

void test('a failed report is dropped and the next one still comes; settle waits for a report under way', async () => {
  const reports: number[] = [];
  let fail = true;
  let release: () => void = () => {};
  const progress = chunkProgress(async (n) => {
    if (fail) {
      fail = false;
      throw new Error('the store is away');
    }
    reports.push(n);
    await new Promise<void>((resolve) => (release = resolve));
  }, owns, 50);
  progress.onPageRead(15);
  await sleep(80);
  progress.onPageRead(16);
  await sleep(80);
  assert.deepEqual(reports, [2]);
  let settled = false;
  const settling = progress.settle().then(() => (settled = true));
  await sleep(20);
  assert.equal(settled, false, 'settle waits for the report under way');
  release();
  await settling;
  assert.equal(settled, true);
});
