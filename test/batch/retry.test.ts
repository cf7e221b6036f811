import assert from 'node:assert/strict';
import { test } from 'node:test';
import { processBatch, type BatchEvent } from '../../src/batch/index.ts';
import { ReamError } from '../../src/errors.ts';
import { delay } from './helpers.ts';

const fast = { baseDelayMs: 5, maxDelayMs: 20 };

void test('a failing item is retried until it succeeds, with the attempt number in its context', async () => {
  const seen: number[] = [];
  const { results } = await processBatch(['x'], (_, { attempt }) => {
    seen.push(attempt);
    if (attempt < 3) throw new Error(`flaky ${attempt}`);
    return 'ok';
  }, { retry: { ...fast, maxAttempts: 3 } });
  assert.deepEqual(seen, [1, 2, 3]);
  assert.equal(results[0]?.status, 'succeeded');
  assert.equal(results[0]?.value, 'ok');
  assert.equal(results[0]?.attempts, 3);
});

void test('after maxAttempts the item fails with its last error; siblings are unaffected', async () => {
  const result = await processBatch([1, 2], (n, { attempt }) => {
    if (n === 1) throw new Error(`boom ${attempt}`);
    return n;
  }, { retry: { ...fast, maxAttempts: 2 } });
  assert.equal(result.failed, 1);
  assert.equal(result.succeeded, 1);
  const failed = result.results[0];
  assert.equal(failed?.status, 'failed');
  assert.equal(failed.attempts, 2);
  assert.equal(failed.error.code, 'internal');
  assert.equal(failed.error.message, 'boom 2');
});

void test('retry delays follow the backoff policy with the injected random', async () => {
  const delays: number[] = [];
  await processBatch(['x'], () => {
    throw new Error('always');
  }, {
    retry: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 30, factor: 2, random: () => 0.5 },
    onEvent: (event) => {
      if (event.type === 'item.retrying') delays.push(event.delayMs);
    },
  });
  // ceilings 10, 20, 40→30; half of each (as whole ms)
  assert.deepEqual(delays, [5, 10, 15]);
});

void test('the retry delay is really waited', async () => {
  const at: number[] = [];
  let delayMs = 0;
  await processBatch(['x'], () => {
    at.push(performance.now());
    if (at.length === 1) throw new Error('once');
  }, {
    retry: { maxAttempts: 2, baseDelayMs: 300, random: () => 0.999 },
    onEvent: (event) => {
      if (event.type === 'item.retrying') delayMs = event.delayMs;
    },
  });
  const waited = (at[1] ?? 0) - (at[0] ?? 0);
  assert.equal(delayMs, 300);
  // Timers never fire early (1 ms of rounding aside); the upper bound only catches a unit mix-up.
  assert.ok(waited >= delayMs - 1 && waited < 30_000, `waited ${waited} ms`);
});

void test('non-retryable errors fail at once with attempts 1', async (t) => {
  const cases: Array<[string, () => unknown, string]> = [
    ['ReamError.nonRetryable with an ordinarily retryable code', () => { throw ReamError.nonRetryable('internal', 'bad record', { cause: new Error('parse') }); }, 'internal'],
    ['ReamError.nonRetryable', () => { throw ReamError.nonRetryable('encrypted_pdf', 'locked'); }, 'encrypted_pdf'],
    ['a ReamError whose code is not retryable', () => { throw new ReamError('validation_failed', 'nope'); }, 'validation_failed'],
    ['an AbortError (a cancellation)', () => { throw new DOMException('stopped', 'AbortError'); }, 'cancelled'],
  ];
  for (const [name, fn, code] of cases) {
    await t.test(name, async () => {
      let calls = 0;
      const { results } = await processBatch([1], () => {
        calls++;
        return fn();
      }, { retry: { maxAttempts: 5, baseDelayMs: 1_000 } });
      assert.equal(calls, 1);
      assert.equal(results[0]?.attempts, 1);
      assert.equal(results[0]?.error?.code, code);
      assert.equal(results[0]?.error?.retryable, false);
    });
  }
});

void test('a thrown ReamError is the reported error, its cause kept', async () => {
  const original = ReamError.nonRetryable('invalid_text', 'bad', { cause: 'root' });
  const { results } = await processBatch([1], () => Promise.reject(original));
  assert.equal(results[0]?.error, original);
  assert.equal(results[0]?.error?.cause, 'root');
});

void test('a thrown plain Error is reported as an internal ReamError with it as cause', async () => {
  const original = new Error('boom');
  const { results } = await processBatch([1], () => Promise.reject(original), { retry: { maxAttempts: 1 } });
  assert.equal(results[0]?.error?.code, 'internal');
  assert.equal(results[0]?.error?.cause, original);
});

void test('a retryable error with retryAfterMs waits that long instead of the backoff, capped at maxDelayMs', async () => {
  const delays: number[] = [];
  let calls = 0;
  await processBatch([1], () => {
    calls++;
    if (calls === 1) throw ReamError.retryable('rate_limited', 'slow down', { retryAfterMs: 7 });
    if (calls === 2) throw ReamError.retryable('rate_limited', 'slow down more', { retryAfterMs: 60_000 });
  }, {
    retry: { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 20, random: () => 0 },
    onEvent: (event) => { if (event.type === 'item.retrying') delays.push(event.delayMs); },
  });
  // The backoff with random() = 0 would wait 0 ms: the error's word decides, within the ceiling.
  assert.deepEqual(delays, [7, 20]);
  assert.equal(calls, 3);
});

void test('a bad retryAfterMs is ignored: the backoff decides', () => {
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.equal(new ReamError('rate_limited', 'x', { retryAfterMs: bad }).retryAfterMs, undefined);
  }
});

void test('`retryable` decides for ordinary errors and gets them as thrown', async () => {
  class HttpError extends Error {
    readonly status: number;
    constructor(status: number) {
      super(`HTTP ${status}`);
      this.status = status;
    }
  }
  const attempts: Record<number, number> = {};
  const { results } = await processBatch([404, 503], (status) => {
    attempts[status] = (attempts[status] ?? 0) + 1;
    throw new HttpError(status);
  }, { retry: { ...fast, maxAttempts: 3, retryable: (error) => error instanceof HttpError && error.status >= 500 } });
  assert.deepEqual(attempts, { 404: 1, 503: 3 });
  assert.deepEqual(results.map((r) => r.attempts), [1, 3]);
});

void test('`retryable` cannot revive a non-retryable ReamError', async () => {
  let calls = 0;
  await processBatch([1], () => {
    calls++;
    throw ReamError.nonRetryable('internal', 'final');
  }, { retry: { ...fast, retryable: () => true } });
  assert.equal(calls, 1);
});

void test('an attempt that runs past timeoutMs is aborted, fails with a retryable timeout, and is retried', async () => {
  const signals: AbortSignal[] = [];
  const events: BatchEvent<number, string>[] = [];
  const { results } = await processBatch([1], async (_, { signal, attempt }) => {
    signals.push(signal);
    if (attempt === 1) await delay(600_000, signal); // ends only through the timeout's abort
    return 'second time lucky';
  }, { timeoutMs: 30, retry: { ...fast, maxAttempts: 2 }, onEvent: (event) => events.push(event) });
  assert.equal(signals[0]?.aborted, true);
  assert.equal(signals[1]?.aborted, false, 'the second attempt has a signal of its own');
  assert.equal(results[0]?.value, 'second time lucky');
  const retrying = events.find((e) => e.type === 'item.retrying');
  assert.equal(retrying?.type === 'item.retrying' && retrying.error.code, 'timeout');
});

void test('a timed-out function that ignores its signal does not hold the batch', async () => {
  const never = Promise.withResolvers<string>(); // settled only after the batch has resolved
  const { results } = await processBatch([1], () => never.promise, { timeoutMs: 20, retry: { maxAttempts: 1 } });
  never.resolve('late');
  assert.equal(results[0]?.status, 'failed');
  assert.equal(results[0]?.error?.code, 'timeout');
  assert.equal(results[0]?.error?.retryable, true);
});
