import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PostgresQueue } from '../../src/queue/postgres-queue.ts';
import { queueConformance } from '../conformance/queue.ts';
import { requireOrSkip } from '../support/env.ts';
import { freshSchema } from '../support/postgres-schema.ts';
import { postgresUnavailable } from '../support/services.ts';

const unavailable = await postgresUnavailable();

queueConformance(
  'PostgresQueue',
  async () => {
    const { database, drop } = await freshSchema();
    const queue = await PostgresQueue.open(database);
    return {
      queue,
      async cleanup() {
        await queue.close();
        await drop();
      },
    };
  },
  { unavailable },
);

/** Two queues on one schema through two pools: what two processes see. */
async function twoQueues(): Promise<{ queues: [PostgresQueue, PostgresQueue]; cleanup: () => Promise<void> }> {
  const { database, open, drop } = await freshSchema();
  const queues: [PostgresQueue, PostgresQueue] = [await PostgresQueue.open(database), await PostgresQueue.open(await open())];
  return {
    queues,
    async cleanup() {
      for (const queue of queues) await queue.close();
      await drop();
    },
  };
}

void test('PostgresQueue: claimers on two pools never get the same task', async (t) => {
  if (!requireOrSkip(t, unavailable === undefined, unavailable ?? '')) return;
  const { queues, cleanup } = await twoQueues();
  try {
    const ids = Array.from({ length: 300 }, (_, i) => `task-${i}`);
    await queues[0].enqueue(ids.map((id) => ({ id, jobId: 'j', kind: 'k', payload: null })));
    const seen: string[] = [];
    const worker = async (queue: PostgresQueue, workerId: string): Promise<void> => {
      for (let leased = await queue.claim({ workerId, leaseMs: 30_000 }); leased; leased = await queue.claim({ workerId, leaseMs: 30_000 })) {
        seen.push(leased.id);
        assert.equal(await queue.complete(leased), true);
      }
    };
    await Promise.all([worker(queues[0], 'a1'), worker(queues[0], 'a2'), worker(queues[1], 'b1'), worker(queues[1], 'b2')]);
    assert.equal(seen.length, ids.length, 'no task was handed out twice');
    assert.deepEqual(new Set(seen), new Set(ids));
    assert.equal((await queues[1].counts()).completed, ids.length);
  } finally {
    await cleanup();
  }
});

void test('PostgresQueue: an enqueue through one pool wakes a waiter on the other (LISTEN/NOTIFY)', async (t) => {
  if (!requireOrSkip(t, unavailable === undefined, unavailable ?? '')) return;
  const { queues, cleanup } = await twoQueues();
  try {
    // Waits that would last a minute: waking well before that is the notification's doing.
    const started = Date.now();
    const waiting = queues[1].waitForWork(60_000);
    setTimeout(() => void queues[0].enqueue([{ id: 'x', jobId: 'j', kind: 'k', payload: null }]), 100);
    await waiting;
    const waited = Date.now() - started;
    assert.ok(waited < 30_000, `woke after ${waited} ms`);
    assert.equal((await queues[1].claim({ workerId: 'b', leaseMs: 1_000 }))?.id, 'x');
    // A retry due later wakes the other process at that time, not at once.
    const later = Date.now();
    const retrying = queues[1].waitForWork(60_000);
    await queues[0].enqueue([{ id: 'y', jobId: 'j', kind: 'k', payload: null, runAt: later + 600 }]);
    await retrying;
    const delay = Date.now() - later;
    assert.ok(delay >= 500 && delay < 30_000, `woke after ${delay} ms`);
  } finally {
    await cleanup();
  }
});
