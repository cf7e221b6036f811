import assert from 'node:assert/strict';
import { test } from 'node:test';
import { processBatchStream } from '../../src/batch/index.ts';
import { ReamError } from '../../src/errors.ts';
import { delay } from './helpers.ts';

void test('results are yielded in completion order as they finish', async () => {
  const seen: number[] = [];
  const gates = [0, 1, 2].map(() => Promise.withResolvers<void>());
  const release = (index: number): void => gates[index]?.resolve();
  release(1); // then each result lets the next one go: 1, 2, 0
  for await (const result of processBatchStream([0, 1, 2], async (index) => {
    await gates[index]?.promise;
    return index;
  }, { concurrency: 3 })) {
    seen.push(result.index);
    if (result.index === 1) release(2);
    if (result.index === 2) release(0);
  }
  assert.deepEqual(seen, [1, 2, 0]);
});

void test('breaking out stops new items, aborts running ones, closes the input, and waits for them', async () => {
  const started: number[] = [];
  const aborted: number[] = [];
  let inputClosed = false;
  function* items(): Generator<number> {
    try {
      for (let i = 0; i < 100; i++) yield i;
    } finally {
      inputClosed = true;
    }
  }
  for await (const result of processBatchStream(items(), async (i, { signal }) => {
    started.push(i);
    try {
      await delay(i === 0 ? 5 : 600_000, signal);
    } catch (error) {
      aborted.push(i);
      throw error;
    }
    return i;
  }, { concurrency: 4 })) {
    assert.equal(result.index, 0);
    break;
  }
  // By the time the loop is left, the running items have been aborted and have settled.
  assert.deepEqual(started, [0, 1, 2, 3, 4], 'item 4 takes item 0\'s slot; nothing else starts');
  assert.deepEqual(aborted.sort(), [1, 2, 3, 4]);
  assert.equal(inputClosed, true, 'the input generator was not closed');
  await delay(20);
  assert.equal(started.length, 5, 'items started after the loop was left');
});

void test('a slow consumer pauses the batch instead of buffering without bound', async () => {
  let started = 0;
  const stream = processBatchStream(Array.from({ length: 50 }, (_, i) => i), (i) => {
    started++;
    return i;
  }, { concurrency: 2 });
  const first = await stream.next();
  assert.equal(first.value?.index, 0);
  await delay(20); // the consumer is busy; instant items must not all run meanwhile
  assert.ok(started <= 5, `${started} items ran ahead of a consumer that took one`);
  let count = 1;
  for await (const _ of stream) count++;
  assert.equal(count, 50);
});

void test('nothing runs before the first next()', async () => {
  let calls = 0;
  const stream = processBatchStream([1, 2], () => calls++);
  await delay(10);
  assert.equal(calls, 0);
  await stream.return();
  assert.equal(calls, 0);
});

void test('an aborted signal ends the iteration normally, after yielding the cancelled items', async () => {
  const controller = new AbortController();
  const statuses: string[] = [];
  // Item 0 ends at once; the other two run until the abort, which comes after item 0's result.
  for await (const result of processBatchStream([0, 600_000, 600_000], (ms, { signal }) => delay(ms, signal), { signal: controller.signal })) {
    statuses.push(result.status === 'failed' ? result.error.code : result.status);
    controller.abort();
  }
  assert.deepEqual(statuses, ['succeeded', 'cancelled', 'cancelled']);
});

void test('the iterator throws when the batch itself breaks', async () => {
  async function* broken(): AsyncGenerator<number> {
    yield await Promise.resolve(1);
    throw new ReamError('io_error', 'network share went away');
  }
  const seen: number[] = [];
  await assert.rejects(async () => {
    for await (const result of processBatchStream(broken(), (n) => n)) seen.push(result.index);
  }, (error: unknown) => error instanceof ReamError && error.code === 'io_error');
  assert.ok(seen.length <= 1);
});

void test('invalid options throw at the call', () => {
  assert.throws(() => processBatchStream([1], () => 1, { concurrency: -1 }), (error: unknown) => error instanceof ReamError && error.code === 'validation_failed');
});
