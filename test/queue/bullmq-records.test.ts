// TaskRecords on a real Redis, each test on a key prefix of its own: the records and counters
// the BullMQ adapter keeps beside BullMQ's keys, their scripts, and the keys they write.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { BullmqKeys } from '../../src/queue/bullmq-keys.ts';
import { TaskRecords, type TaskRef } from '../../src/queue/bullmq-records.ts';
import type { TaskStatus } from '../../src/queue/port.ts';
import { deleteRedisPrefix } from '../support/cluster.ts';
import { redisUnavailable, TEST_REDIS_URL, uniqueName } from '../support/services.ts';

const unavailable = await redisUnavailable();
const skip = unavailable === undefined ? false : `skipped: ${unavailable} is not available`;
const TTL_MS = 60_000;

interface Setup {
  records: TaskRecords;
  redis: Redis;
  keys: BullmqKeys;
}

/** Runs `body` on a fresh prefix, then deletes every key under it. */
async function withRecords(body: (setup: Setup) => Promise<void>): Promise<void> {
  const keys = new BullmqKeys(uniqueName('ream_test_records'));
  const redis = new Redis(TEST_REDIS_URL);
  try {
    await body({ records: new TaskRecords(redis, keys, TTL_MS), redis, keys });
  } finally {
    await redis.quit();
    await deleteRedisPrefix(TEST_REDIS_URL, keys.prefix);
  }
}

function only(counts: Record<TaskStatus, number>, expected: Partial<Record<TaskStatus, number>>): void {
  assert.deepEqual(counts, { waiting: 0, queued: 0, leased: 0, completed: 0, failed: 0, cancelled: 0, ...expected });
}

const ref = (id: string, jobId = 'j', queueName = 'k'): TaskRef => ({ id, jobId, queueName });

void test('TaskRecords.record counts each task once, however often or concurrently it is recorded', { skip }, async () => {
  await withRecords(async ({ records, redis, keys }) => {
    assert.deepEqual(await records.knownTasks([{ id: 'a', jobId: 'j' }]), [false]);
    const [first, second] = await Promise.all([
      records.record([{ ...ref('a'), status: 'queued' }, { ...ref('p', 'j', 'merge'), status: 'waiting' }]),
      records.record([{ ...ref('a'), status: 'queued' }]),
    ]);
    assert.equal([...(first ?? []), ...(second ?? [])].filter(Boolean).length, 2, 'a and p recorded, a only once');
    assert.deepEqual(await records.knownTasks([{ id: 'a', jobId: 'j' }, { id: 'a', jobId: 'other' }, { id: 'p', jobId: 'j' }]), [true, false, true]);
    only(await records.jobCounts('j'), { queued: 1, waiting: 1 });
    only(await records.jobCounts('none'), {});
    for (const key of [keys.jobRecords('j'), keys.jobCounts('j')]) {
      const ttl = await redis.pttl(key);
      assert.ok(ttl > 0 && ttl <= TTL_MS, `${key} expires (${ttl} ms)`);
    }
  });
});

void test('TaskRecords.move moves the counters with the record, idempotently, and records an unknown task', { skip }, async () => {
  await withRecords(async ({ records }) => {
    await records.record([{ ...ref('a'), status: 'queued' }]);
    assert.equal(await records.move(ref('a'), 'leased'), 'queued');
    assert.equal(await records.move(ref('a'), 'leased'), 'leased', 'a repeated move changes nothing');
    only(await records.jobCounts('j'), { leased: 1 });
    assert.equal(await records.move(ref('late'), 'leased'), '', 'a move that came before the enqueue records the task');
    assert.deepEqual(await records.record([{ ...ref('late'), status: 'queued' }]), [false], 'the enqueue then leaves it as it is');
    only(await records.jobCounts('j'), { leased: 2 });
  });
});

void test('TaskRecords.move checks the BullMQ lock and holds it for the move behind it', { skip }, async () => {
  await withRecords(async ({ records, redis, keys }) => {
    await records.record([{ ...ref('a'), status: 'queued' }]);
    const lock = { bullmqJobId: 'a', token: 'mine', holdMs: 5_000 };
    assert.equal(await records.move(ref('a'), 'completed', lock), undefined, 'no lock: not ours');
    await redis.set(keys.lock('k', 'a'), 'theirs', 'PX', 100);
    assert.equal(await records.move(ref('a'), 'completed', lock), undefined, 'another token: not ours');
    only(await records.jobCounts('j'), { queued: 1 });
    await redis.set(keys.lock('k', 'a'), 'mine', 'PX', 100);
    assert.equal(await records.move(ref('a'), 'completed', lock), 'queued');
    assert.ok((await redis.pttl(keys.lock('k', 'a'))) > 1_000, 'the lock is held for the move');
    await redis.set(keys.lock('k', 'a'), 'mine', 'PX', 60_000);
    await records.move(ref('a'), 'completed', lock);
    assert.ok((await redis.pttl(keys.lock('k', 'a'))) > 10_000, 'a longer lock is never shortened');
    only(await records.jobCounts('j'), { completed: 1 });
  });
});

void test('TaskRecords.revert undoes a move only while the task is still where the move put it', { skip }, async () => {
  await withRecords(async ({ records }) => {
    await records.record([{ ...ref('a'), status: 'queued' }, { ...ref('b'), status: 'queued' }]);
    await records.move(ref('a'), 'completed');
    await records.revert(ref('a'), 'completed', 'queued');
    only(await records.jobCounts('j'), { queued: 2 });
    await records.move(ref('b'), 'completed');
    await records.move(ref('b'), 'queued'); // someone else moved it on (a lease sweep)
    await records.revert(ref('b'), 'completed', 'leased');
    only(await records.jobCounts('j'), { queued: 2 });
    await records.move(ref('c'), 'leased');
    await records.revert(ref('c'), 'leased', '');
    only(await records.jobCounts('j'), { queued: 2 });
    assert.deepEqual(await records.knownTasks([{ id: 'c', jobId: 'j' }]), [false], 'a reverted first record is gone');
  });
});

void test('TaskRecords.childEnded queues a waiting parent once BullMQ released it, and wakes workers', { skip }, async () => {
  await withRecords(async ({ records, redis, keys }) => {
    const subscriber = redis.duplicate();
    await subscriber.subscribe(keys.workChannel);
    const woke = once(subscriber, 'message');
    try {
      await records.record([{ ...ref('p', 'j', 'merge'), status: 'waiting' }]);
      await redis.zadd(keys.bullmq('merge', 'waiting-children'), 1, 'p');
      await records.childEnded({ id: 'p', jobId: 'j', bullmqJobId: 'p' });
      only(await records.jobCounts('j'), { waiting: 1 });
      assert.deepEqual(await woke, [keys.workChannel, '[]']);
      await redis.zrem(keys.bullmq('merge', 'waiting-children'), 'p');
      await records.childEnded({ id: 'p', jobId: 'j', bullmqJobId: 'p' });
      only(await records.jobCounts('j'), { queued: 1 });
      await records.childEnded({ id: 'p', jobId: 'j', bullmqJobId: 'p' });
      only(await records.jobCounts('j'), { queued: 1 });
    } finally {
      await subscriber.quit();
    }
  });
});

void test('TaskRecords: a cancel names parents first and counts only what was still queued or waiting', { skip }, async () => {
  await withRecords(async ({ records, redis, keys }) => {
    await records.record([{ ...ref('a'), status: 'queued' }, { ...ref('p', 'j', 'merge%3Ax'), status: 'waiting' }, { ...ref('done'), status: 'queued' }]);
    await records.record([{ ...ref('x', 'other'), status: 'queued' }]);
    await records.move(ref('running'), 'leased');
    assert.deepEqual(await records.cancellable('j'), [
      { id: 'p', kind: 'merge:x', status: 'waiting' },
      { id: 'a', kind: 'k', status: 'queued' },
      { id: 'done', kind: 'k', status: 'queued' },
    ]);
    await records.move(ref('done'), 'completed'); // finished before BullMQ removed it
    const subscriber = redis.duplicate();
    await subscriber.subscribe(keys.cancelChannel);
    const told = once(subscriber, 'message');
    try {
      assert.equal(await records.cancelled('j', ['p', 'a', 'done'], true), 2);
      assert.deepEqual(await told, [keys.cancelChannel, 'j']);
    } finally {
      await subscriber.quit();
    }
    assert.equal(await records.cancelled('j', ['p', 'a'], false), 0, 'cancelled tasks are not counted twice');
    only(await records.jobCounts('j'), { leased: 1, completed: 1, cancelled: 2 });
    assert.deepEqual(await records.cancellable('j'), []);
    assert.equal(await records.cancelledTotal(60_000), 2);
    assert.equal(await records.isJobCancelled('j'), false);
    await records.markJobCancelled('j');
    assert.equal(await records.isJobCancelled('j'), true);
  });
});
