import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay } from '../../src/batch/index.ts';
import { ReamError } from '../../src/errors.ts';

const policy = { baseDelayMs: 100, maxDelayMs: 1_000, factor: 2 };

void test('the ceiling grows by factor per attempt and is capped at maxDelayMs', () => {
  const top = (): number => 0.999_999_999; // just below 1: the ceiling itself
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((attempt) => backoffDelay(attempt, policy, top)), [100, 200, 400, 800, 1_000, 1_000]);
});

void test('full jitter: the delay is spread over the whole range from 0 to the ceiling', () => {
  assert.equal(backoffDelay(3, policy, () => 0), 0);
  assert.equal(backoffDelay(3, policy, () => 0.5), 200);
  assert.equal(backoffDelay(3, policy, () => 1), 400, 'a random() of exactly 1 stays within bounds');
});

void test('with the real Math.random every delay stays within [0, ceiling] and is a whole number of ms', () => {
  for (let attempt = 1; attempt <= 12; attempt++) {
    const ceiling = Math.min(1_000, 100 * 2 ** (attempt - 1));
    for (let i = 0; i < 200; i++) {
      const delay = backoffDelay(attempt, policy);
      assert.ok(Number.isInteger(delay) && delay >= 0 && delay <= ceiling, `attempt ${attempt}: ${delay}`);
    }
  }
});

void test('a huge attempt number does not overflow past the cap', () => {
  assert.equal(backoffDelay(5_000, policy, () => 0.999_999_999), 1_000);
});

void test('attempts are 1-based', () => {
  assert.throws(() => backoffDelay(0, policy), (error: unknown) => error instanceof ReamError && error.code === 'validation_failed');
});
