import assert from 'node:assert/strict';
import { test } from 'node:test';
import { localCoordination, type Coordination } from '../../src/server/coordination.ts';
import { redisCoordination } from '../../src/server/coordination-redis.ts';
import { deleteRedisPrefix } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { TEST_REDIS_URL, redisUnavailable, uniqueName } from '../support/services.ts';

const missing = await redisUnavailable();

async function checkBudget(first: Coordination, second: Coordination): Promise<void> {
  // 3 per minute, shared: three takes through either instance pass, the fourth waits ~20 s.
  const waits = [await first.takeToken('key-a', 3), await second.takeToken('key-a', 3), await first.takeToken('key-a', 3)];
  assert.deepEqual(waits, [0, 0, 0]);
  const over = await second.takeToken('key-a', 3);
  assert.ok(over > 15_000 && over <= 20_000, `waits ${over} ms for the next token`);
  assert.equal(await first.takeToken('key-b', 3), 0, 'another subject has its own bucket');
}

async function checkOnce(first: Coordination, second: Coordination): Promise<void> {
  await first.putOnce('ticket-1', 'alice', 60_000);
  assert.equal(await second.takeOnce('ticket-1'), 'alice', 'taken through the other instance');
  assert.equal(await first.takeOnce('ticket-1'), undefined, 'only once');
  assert.equal(await second.takeOnce('never-put'), undefined);
  await first.putOnce('ticket-2', 'bob', 1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(await second.takeOnce('ticket-2'), undefined, 'expired');
}

void test('local coordination: token buckets and once-values in one process', async () => {
  const local = localCoordination();
  await checkBudget(local, local);
  await checkOnce(local, local);
});

void test('Redis coordination: two server instances share a key\'s rate budget and once-values', async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const prefix = uniqueName('ream_test_coord');
  const [a, b] = [redisCoordination(TEST_REDIS_URL, prefix), redisCoordination(TEST_REDIS_URL, prefix)];
  try {
    await checkBudget(a, b);
    await checkOnce(a, b);
  } finally {
    await a.close();
    await b.close();
    await deleteRedisPrefix(TEST_REDIS_URL, prefix);
  }
});
