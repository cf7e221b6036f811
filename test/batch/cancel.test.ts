import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { processBatch } from '../../src/batch/index.ts';
import { delay, tempDir } from './helpers.ts';

/** Open file descriptors of this process (Linux; elsewhere the check is a no-op). */
function openFiles(): number {
  return existsSync('/proc/self/fd') ? readdirSync('/proc/self/fd').length : 0;
}

function activeTimers(): number {
  return process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
}

void test('abort reaches running items, starts nothing new, and the batch resolves with what was made', async () => {
  const controller = new AbortController();
  const runningSignals: AbortSignal[] = [];
  const started: number[] = [];
  const slowRunning = Promise.withResolvers<void>();
  const pending = processBatch([0, 1, 2, 3, 4, 5, 6, 7], async (i, { signal }) => {
    started.push(i);
    if (i < 2) return `fast ${i}`;
    runningSignals.push(signal);
    if (runningSignals.length === 3) slowRunning.resolve();
    // Ends only through its signal: the batch resolving at all proves the abort reached it.
    await delay(600_000, signal);
    return `slow ${i}`;
  }, { concurrency: 3, signal: controller.signal });
  await slowRunning.promise;
  controller.abort(new Error('user pressed Ctrl-C'));
  const result = await pending;
  assert.equal(result.cancelled, true);
  assert.deepEqual(started, [0, 1, 2, 3, 4], 'items started after the abort');
  assert.ok(runningSignals.every((s) => s.aborted));
  assert.deepEqual(result.results.map((r) => r.status), ['succeeded', 'succeeded', 'failed', 'failed', 'failed']);
  assert.deepEqual(result.results.slice(2).map((r) => r.error?.code), ['cancelled', 'cancelled', 'cancelled']);
  assert.equal(result.results[0]?.value, 'fast 0');
  assert.deepEqual([result.succeeded, result.failed], [2, 3]);
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0, 'a listener was left on the caller\'s signal');
});

void test('a function that ignores its signal does not keep a cancelled batch waiting', async () => {
  const controller = new AbortController();
  const running = Promise.withResolvers<void>();
  const never = Promise.withResolvers<void>(); // settled only after the batch has resolved
  const pending = processBatch([1], () => {
    running.resolve();
    return never.promise;
  }, { signal: controller.signal });
  await running.promise;
  controller.abort();
  const result = await pending; // had the batch waited for the function, this would never resolve
  never.resolve();
  assert.equal(result.results[0]?.error?.code, 'cancelled');
});

void test('an already aborted signal runs nothing, and opens nothing it does not close', async (t) => {
  let calls = 0;
  const filesBefore = openFiles();
  const signal = AbortSignal.abort();
  const checkpoint = { path: join(await tempDir(t), 'aborted.checkpoint') };
  const result = await processBatch(['a', 'b'], () => calls++, { signal, checkpoint });
  assert.equal(calls, 0);
  assert.equal(result.cancelled, true);
  assert.deepEqual(result.results, []);
  assert.equal(openFiles(), filesBefore);
  assert.equal(getEventListeners(signal, 'abort').length, 0);
});

void test('an abort during a retry delay ends the wait at once; the item is reported cancelled', async () => {
  const controller = new AbortController();
  // The retry would come after ten minutes: the batch resolving at all proves the wait ended.
  const result = await processBatch([1], () => {
    throw new Error('flaky');
  }, {
    signal: controller.signal,
    retry: { baseDelayMs: 600_000, maxDelayMs: 600_000, random: () => 0.999 },
    onEvent: (event) => {
      if (event.type === 'item.retrying') controller.abort();
    },
  });
  const item = result.results[0];
  assert.equal(item?.status, 'failed');
  assert.equal(item.error.code, 'cancelled');
  assert.equal(item.attempts, 1);
  assert.match(item.error.message, /flaky/, 'the failure that led to the retry is kept in the message');
});

void test('no timers, files or signal listeners outlive the batch', async (t) => {
  const controller = new AbortController();
  const checkpoint = { path: join(await tempDir(t), 'leak.checkpoint'), key: (i: number) => String(i) };
  const filesBefore = openFiles();
  const timersBefore = activeTimers();
  let peakListeners = 0;
  await processBatch(Array.from({ length: 60 }, (_, i) => i), async (i, { attempt }) => {
    peakListeners = Math.max(peakListeners, getEventListeners(controller.signal, 'abort').length);
    await delay(1);
    if (i % 3 === 0 && attempt === 1) throw new Error('retry me');
  }, { concurrency: 30, timeoutMs: 10_000, signal: controller.signal, retry: { baseDelayMs: 2 }, checkpoint });
  assert.equal(activeTimers(), timersBefore, 'a timeout, retry or flush timer was left running');
  assert.equal(openFiles(), filesBefore, 'the checkpoint file was left open');
  assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  assert.ok(peakListeners <= 1, `${peakListeners} listeners on the caller's signal: one per item does not scale`);
});

void test('a signal that is not an AbortSignal is refused with validation_failed, not a TypeError', async () => {
  await assert.rejects(processBatch([1], () => 1, { signal: 'x' as never }), { code: 'validation_failed', message: /signal must be an AbortSignal/ });
});
