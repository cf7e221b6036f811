import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { setImmediate as turn } from 'node:timers/promises';
import { processBatch } from '../../src/batch/index.ts';
import { ReamError } from '../../src/errors.ts';

/** Runs a batch under mocked timers, ticking until it resolves. */
async function underMockedTime<R>(t: TestContext, run: () => Promise<R>): Promise<R> {
  let settled = false;
  const promise = run().finally(() => (settled = true));
  while (!settled) {
    t.mock.timers.tick(10);
    await turn();
  }
  return promise;
}

test('processBatch rate { perSecond }: starts are spaced evenly, retries included, whatever the concurrency', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const starts: number[] = [];
  let failedOnce = false;
  const result = await underMockedTime(t, () => processBatch([0, 1, 2, 3, 4], (item) => {
    starts.push(Date.now());
    if (item === 2 && !failedOnce) {
      failedOnce = true;
      throw new ReamError('rate_limited', 'try again');
    }
    return item;
  }, { concurrency: 5, rate: { perSecond: 10 }, retry: { baseDelayMs: 0, random: () => 0 } }));
  assert.equal(result.succeeded, 5);
  assert.deepEqual(starts, [0, 100, 200, 300, 400, 500], 'six attempts (one retry), 100 ms apart');
});

test('processBatch rate { perMinute } and bad rates', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  const starts: number[] = [];
  await underMockedTime(t, () => processBatch([1, 2, 3], () => {
    starts.push(Date.now());
  }, { concurrency: 3, rate: { perMinute: 120 } }));
  assert.deepEqual(starts, [0, 500, 1000]);
  // The last: one start per ~114,000 years, past what a timer can wait (it would fire at once).
  for (const rate of [{ perSecond: 0 }, { perMinute: -1 }, { perSecond: Number.NaN }, { perSecond: 1, perMinute: 1 }, { perMinute: 1e-9 }]) {
    await assert.rejects(processBatch([1], () => 1, { rate: rate as never }), { code: 'validation_failed' });
  }
});
