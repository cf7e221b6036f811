import assert from 'node:assert/strict';
import { test } from 'node:test';
import { processBatch } from '../../src/batch/index.ts';
import { ReamError } from '../../src/errors.ts';
import { delay, inFlightCounter } from './helpers.ts';

void test('never more than `concurrency` items run at once, and the window is kept full', async () => {
  const counter = inFlightCounter();
  const widths: number[] = [];
  const items = Array.from({ length: 30 }, (_, i) => i);
  const { results, succeeded } = await processBatch(items, async (i) => {
    counter.enter();
    widths.push(counter.now);
    await delay(1 + ((i * 7) % 9));
    counter.leave();
    return i * 2;
  }, { concurrency: 4 });
  assert.equal(counter.max, 4);
  assert.equal(succeeded, 30);
  assert.deepEqual(results.map((r) => r.value), items.map((i) => i * 2));
  // Sliding window: every item after the first four starts into a window of three others.
  assert.ok(widths.slice(4).every((w) => w === 4), `window widths: ${widths.join(',')}`);
});

void test('a free slot is refilled in the same tick, not after a timer or a sibling', async () => {
  let macrotaskRan = false;
  let immediateSeenByNext: boolean | undefined;
  const lastStarted = Promise.withResolvers<void>();
  await processBatch([0, 1, 2, 3, 4, 5], async (i) => {
    if (i === 5) lastStarted.resolve();
    if (i === 2) immediateSeenByNext = macrotaskRan;
    if (i === 0) {
      // A slow item must not hold the others back (no batch barrier): it ends only once the
      // last item has started beside it, which a batch waiting for it would never do.
      await lastStarted.promise;
      return i;
    }
    await delay(15);
    if (i === 1) setImmediate(() => (macrotaskRan = true)); // item 2 must start before this runs
    return i;
  }, { concurrency: 2 });
  assert.equal(immediateSeenByNext, false, 'item 2 started only after a macrotask: the slot was not refilled at once');
});

void test('results come back in input order whatever the completion order', async () => {
  const order: number[] = [];
  const gates = Array.from({ length: 5 }, () => Promise.withResolvers<void>());
  const finished = Array.from({ length: 5 }, () => Promise.withResolvers<void>());
  const batch = processBatch(['a', 'b', 'c', 'd', 'e'], async (item, { index }) => {
    await gates[index]?.promise;
    order.push(index);
    finished[index]?.resolve();
    return item.toUpperCase();
  }, { concurrency: 5 });
  for (const index of [4, 3, 2, 1, 0]) {
    gates[index]?.resolve();
    await finished[index]?.promise;
  }
  const { results } = await batch;
  assert.deepEqual(order, [4, 3, 2, 1, 0]);
  assert.deepEqual(results.map((r) => [r.index, r.item, r.status, r.value]), [
    [0, 'a', 'succeeded', 'A'], [1, 'b', 'succeeded', 'B'], [2, 'c', 'succeeded', 'C'], [3, 'd', 'succeeded', 'D'], [4, 'e', 'succeeded', 'E'],
  ]);
  assert.ok(results.every((r) => r.attempts === 1 && r.durationMs >= 0));
});

void test('an async iterable is pulled lazily: never more than `concurrency` items ahead of the finished ones', async () => {
  let pulled = 0;
  let finished = 0;
  let worstLead = 0;
  async function* source(): AsyncGenerator<number> {
    for (let i = 0; i < 40; i++) {
      await delay(0);
      pulled++;
      yield i;
    }
  }
  const { succeeded } = await processBatch(source(), async () => {
    worstLead = Math.max(worstLead, pulled - finished);
    await delay(2);
    finished++;
  }, { concurrency: 3 });
  assert.equal(succeeded, 40);
  assert.ok(worstLead <= 3, `pulled ${worstLead} items ahead of the finished ones`);
});

void test('an endless input works: nothing is read ahead, and cancelling ends it', async () => {
  let pulled = 0;
  function* naturals(): Generator<number> {
    for (let i = 0; ; i++) {
      pulled++;
      yield i;
    }
  }
  const controller = new AbortController();
  const result = await processBatch(naturals(), async (i) => {
    await delay(1);
    if (i === 20) controller.abort();
    return i;
  }, { concurrency: 5, signal: controller.signal });
  assert.equal(result.cancelled, true);
  assert.ok(pulled <= 26, `pulled ${pulled} items`);
  assert.equal(result.results.length, pulled);
});

void test('a function may return a plain value instead of a promise', async () => {
  const { results } = await processBatch(new Set([1, 2, 3]), (n) => n + 1);
  assert.deepEqual(results.map((r) => r.value), [2, 3, 4]);
});

void test('an empty input resolves at once', async () => {
  const result = await processBatch([], () => 1);
  assert.deepEqual({ ...result, durationMs: 0 }, { results: [], succeeded: 0, failed: 0, skipped: 0, cancelled: false, durationMs: 0 });
});

void test('impossible options are refused with validation_failed', async () => {
  for (const options of [{ concurrency: 0 }, { concurrency: 1.5 }, { retry: { maxAttempts: 0 } }, { timeoutMs: -1 }, { retry: { factor: 0.5 } }]) {
    await assert.rejects(processBatch([1], () => 1, options), (error: unknown) => error instanceof ReamError && error.code === 'validation_failed', JSON.stringify(options));
  }
  await assert.rejects(processBatch(42 as unknown as number[], () => 1), /Iterable/);
});

void test('an fn, options or callbacks of the wrong kind, and unknown option keys, are refused up front with validation_failed', async () => {
  const refused: [string, () => Promise<unknown>, RegExp][] = [
    ['fn not a function', () => processBatch([1], 'nope' as never), /fn must be a function/],
    ['options null', () => processBatch([1], () => 1, null as never), /options must be an object, got null/],
    ['rate null', () => processBatch([1], () => 1, { rate: null as never }), /rate must be an object/],
    ['checkpoint null', () => processBatch([1], () => 1, { checkpoint: null as never }), /checkpoint must be an object/],
    ['retry a number', () => processBatch([1], () => 1, { retry: 3 as never }), /retry must be an object, got number/],
    ['a typo', () => processBatch([1], () => 1, { concurency: 3 } as never), /unknown option "concurency"/],
    ['a retry typo', () => processBatch([1], () => 1, { retry: { maxAttempt: 3 } } as never), /unknown retry option "maxAttempt"/],
    ['retryable not a function', () => processBatch([1], () => 1, { retry: { retryable: true as never } }), /retry\.retryable must be a function/],
    ['random not a function', () => processBatch([1], () => 1, { retry: { random: 0.5 as never } }), /retry\.random must be a function/],
    ['checkpoint key not a function', () => processBatch([1], () => 1, { checkpoint: { path: 'x', key: 'id' as never } }), /checkpoint\.key must be a function/],
  ];
  for (const [what, call, message] of refused) {
    await assert.rejects(call(), (error: unknown) => error instanceof ReamError && error.code === 'validation_failed' && message.test(error.message), what);
  }
});

void test('a thrown value that is no Error keeps what it said, and is the cause', async () => {
  const thrown: [unknown, RegExp][] = [
    [{ code: 'E_QUOTA', message: 'quota hit' }, /^quota hit$/],
    [{ code: 'E_QUOTA' }, /^\{"code":"E_QUOTA"\}$/],
    ['disk full', /^disk full$/],
    [undefined, /^undefined was thrown, not an Error$/],
    [null, /^null was thrown, not an Error$/],
  ];
  for (const [value, message] of thrown) {
    const { results } = await processBatch([1], () => {
      throw value;
    }, { retry: { maxAttempts: 1 } });
    const error = results[0]?.error;
    assert.match(error?.message ?? '', message, String(value));
    assert.equal(error?.cause, value, 'the thrown value is the cause');
  }
});

void test('an input that throws rejects the batch, after aborting what was running', async () => {
  let abortedRunning = false;
  async function* broken(): AsyncGenerator<number> {
    yield 1;
    await delay(5);
    throw new Error('disk gone');
  }
  await assert.rejects(
    processBatch(broken(), async (_, { signal }) => {
      await delay(600_000, signal).catch((error: unknown) => {
        abortedRunning = signal.aborted;
        throw error;
      });
    }),
    (error: unknown) => error instanceof ReamError && /disk gone/.test(error.message),
  );
  assert.equal(abortedRunning, true);
});

void test('a batch of instant items still lets timers run, so a timed abort lands', async () => {
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 5);
  function* endless(): Generator<number> {
    for (let i = 0; ; i++) yield i;
  }
  // Without yielding to the event loop this would never end: the abort timer could not fire.
  const result = await processBatch(endless(), (i) => i, { signal: controller.signal, concurrency: 4 });
  assert.equal(result.cancelled, true);
  assert.ok(result.succeeded > 0);
});
