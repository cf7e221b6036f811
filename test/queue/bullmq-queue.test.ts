import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Queue } from 'bullmq';
import { BullmqQueue, type BullmqQueueOptions } from '../../src/queue/bullmq-queue.ts';
import type { TaskStatus } from '../../src/queue/port.ts';
import { queueConformance } from '../conformance/queue.ts';
import { sleep } from '../conformance/suite.ts';
import { deleteRedisPrefix } from '../support/cluster.ts';
import { redisUnavailable, TEST_REDIS_URL, uniqueName } from '../support/services.ts';

const unavailable = await redisUnavailable();
const skip = unavailable === undefined ? false : `skipped: ${unavailable} is not available`;

async function openQueue(prefix: string, options: Partial<BullmqQueueOptions> = {}): Promise<BullmqQueue> {
  return BullmqQueue.open({ url: TEST_REDIS_URL, prefix, stalledCheckMs: 50, ...options });
}

queueConformance(
  'BullmqQueue (Redis)',
  async () => {
    const prefix = uniqueName('ream_test_queue');
    const queue = await openQueue(prefix);
    return {
      queue,
      async cleanup() {
        await queue.close();
        await deleteRedisPrefix(TEST_REDIS_URL, prefix);
      },
    };
  },
  { unavailable },
);

const claim = { workerId: 'w', leaseMs: 30_000 };
const boom = { code: 'internal' as const, message: 'boom' };

/** Runs `body` with queues on one fresh prefix, then closes them and deletes the prefix. */
async function withPrefix(body: (open: (options?: Partial<BullmqQueueOptions>) => Promise<BullmqQueue>, prefix: string) => Promise<void>): Promise<void> {
  const prefix = uniqueName('ream_test_queue');
  const opened: BullmqQueue[] = [];
  try {
    await body(async (options) => {
      const queue = await openQueue(prefix, { prefetchHoldMs: PREFETCH_HOLD_MS, ...options });
      opened.push(queue);
      return queue;
    }, prefix);
  } finally {
    await Promise.all(opened.map((queue) => queue.close()));
    await deleteRedisPrefix(TEST_REDIS_URL, prefix);
  }
}

void test('BullmqQueue: dedupe by task id holds after retention removed the finished job', { skip }, async () => {
  await withPrefix(async (open, prefix) => {
    const queue = await open({ retention: { maxCount: 0 } });
    const task = { id: 'once', jobId: 'j', kind: 'k', payload: null };
    assert.equal(await queue.enqueue([task]), 1);
    const leased = await queue.claim(claim);
    assert.ok(leased);
    assert.equal(await queue.complete(leased), true);
    const raw = new Queue('k', { connection: { url: TEST_REDIS_URL }, prefix });
    try {
      assert.equal(await raw.getJob('once'), undefined, 'retention (maxCount 0) removed the completed job from BullMQ');
    } finally {
      await raw.close();
    }
    assert.equal(await queue.enqueue([task]), 0, 'the id still dedupes');
    assert.equal(await queue.claim(claim), undefined);
    only(await queue.counts('j'), { completed: 1 }); // per-job counts come from ream's records
  });
});

void test('BullmqQueue: a cancel reaches every process on the prefix', { skip }, async () => {
  await withPrefix(async (open) => {
    const here = await open();
    const there = await open();
    const heard: string[] = [];
    const off = there.onJobCancelled((jobId) => heard.push(jobId));
    await here.enqueue([{ id: 'a', jobId: 'doomed', kind: 'k', payload: null }]);
    const leased = await there.claim(claim);
    assert.ok(leased);
    assert.equal(await here.cancelJob('doomed'), 0, 'the leased task is not counted');
    for (let i = 0; i < 1_000 && heard.length === 0; i++) await sleep(10);
    assert.deepEqual(heard, ['doomed']);
    assert.equal(await there.fail(leased, boom, 0), 'failed', 'a cancelled job is not retried, whoever holds it');
    off();
  });
});

void test('BullmqQueue: a document cancel reaches every process on the prefix, and touches no task', { skip }, async () => {
  await withPrefix(async (open) => {
    const here = await open();
    const there = await open();
    const heard: string[] = [];
    const off = there.onDocumentCancelled((jobId, documentId) => heard.push(`${jobId}/${documentId}`));
    await here.enqueue([{ id: 'a', jobId: 'j', kind: 'k', payload: null }]);
    await here.announceDocumentCancelled('j', 'doc-1');
    for (let i = 0; i < 1_000 && heard.length === 0; i++) await sleep(10);
    assert.deepEqual(heard, ['j/doc-1']);
    // The task stays queued: it finds its document ended when it runs, and does nothing.
    assert.ok(await there.claim(claim));
    off();
  });
});

void test('BullmqQueue: a lease expiry found by another process fires its onLeaseExpired', { skip }, async () => {
  await withPrefix(async (open) => {
    const dying = await open({ stalledCheckMs: 60_000 });
    const survivor = await open({ stalledCheckMs: 50 });
    const expired: string[] = [];
    survivor.onLeaseExpired((task, error) => expired.push(`${task.id}:${task.attempts}:${error.code}`));
    await dying.enqueue([{ id: 'last', jobId: 'j', kind: 'k', payload: null, maxAttempts: 1 }]);
    const leased = await dying.claim({ workerId: 'dies', leaseMs: 100 });
    assert.ok(leased);
    await dying.close(); // the holder is gone: no heartbeat, no sweep of its own
    for (let i = 0; i < 500 && expired.length === 0; i++) await sleep(20);
    assert.deepEqual(expired, ['last:1:worker_lost']);
    const counts = await survivor.counts('j');
    assert.equal(counts.failed, 1);
  });
});

void test('BullmqQueue: idle waiters in another process wake on an enqueue', { skip }, async () => {
  await withPrefix(async (open) => {
    const producer = await open();
    const consumer = await open();
    // The wait would last a minute: waking well before that is the enqueue's doing.
    const started = Date.now();
    const waiting = consumer.waitForWork(60_000);
    setTimeout(() => void producer.enqueue([{ id: 'x', jobId: 'j', kind: 'fresh-kind', payload: 1 }]), 50);
    await waiting;
    assert.ok(Date.now() - started < 30_000, `woke after ${Date.now() - started} ms`);
    assert.equal((await consumer.claim(claim))?.id, 'x', 'the new kind is known to the other process');
  });
});

void test('BullmqQueue: Redis lost its kinds (a flush): the next enqueue writes them again, and a process started since claims them', { skip }, async () => {
  await withPrefix(async (open, prefix) => {
    const producer = await open();
    await producer.enqueue([{ id: 'before', jobId: 'j', kind: 'inspect-kind', payload: 1 }]);
    assert.equal((await producer.claim(claim))?.id, 'before');
    // The kinds' set goes, as in a flush or a restart without AOF; the producer still knows the kind.
    await deleteRedisPrefix(TEST_REDIS_URL, prefix);
    await producer.enqueue([{ id: 'after', jobId: 'j2', kind: 'inspect-kind', payload: 2 }]);
    const fresh = await open();
    assert.equal((await fresh.claim(claim))?.id, 'after', 'the fresh process knows the kind from Redis');
  });
});

void test('BullmqQueue: priorities across kinds, ids BullMQ would reject, and a copied lease', { skip }, async () => {
  await withPrefix(async (open) => {
    const queue = await open();
    await queue.enqueue([
      { id: 'job:1:low', jobId: 'j', kind: 'a', payload: null, priority: -3 },
      { id: '42', jobId: 'j', kind: 'b', payload: null, priority: 5_000_000 },
      { id: 'mid', jobId: 'j', kind: 'c', payload: null },
    ]);
    const order: string[] = [];
    for (let leased = await queue.claim(claim); leased; leased = await queue.claim(claim)) {
      order.push(`${leased.id}:${leased.priority}`);
      assert.equal(await queue.complete({ ...leased }), true, 'a copy of the lease still completes');
    }
    assert.deepEqual(order, ['42:5000000', 'mid:0', 'job:1:low:-3']);
  });
});

void test('BullmqQueue.open rejects an unreachable Redis with unavailable, saying why', async () => {
  await assert.rejects(
    BullmqQueue.open({ url: 'redis://:sekret@127.0.0.1:1' }),
    (error: unknown) => {
      const { code, message } = error as { code?: string; message: string };
      return code === 'unavailable' && /ECONNREFUSED/.test(message) && !message.includes('sekret');
    },
  );
});

void test('BullmqQueue.close leaves no open handle: a process that used it exits by itself', { skip }, async () => {
  await withPrefix(async (_open, prefix) => {
    const fixture = fileURLToPath(new URL('./fixtures/bullmq-close.ts', import.meta.url));
    const child = spawn(process.execPath, [fixture, TEST_REDIS_URL, prefix], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = once(child, 'exit');
    // The clock starts once close() has returned (starting the process may take long on a busy
    // machine); from there a process with no handle left exits at once, far within 15 s.
    let timer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('closed')) timer ??= setTimeout(() => child.kill('SIGKILL'), 15_000);
    });
    const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
    clearTimeout(timer);
    assert.equal(signal, null, 'the process had to be killed: close() left a handle open');
    assert.equal(code, 0, stderr);
  });
});

function only(counts: Record<TaskStatus, number>, expected: Partial<Record<TaskStatus, number>>): void {
  assert.deepEqual(counts, { waiting: 0, queued: 0, leased: 0, completed: 0, failed: 0, cancelled: 0, ...expected });
}

/** The BullMQ state of a task as Redis holds it, read with a plain BullMQ Queue. */
async function bullmqState(prefix: string, kind: string, taskId: string): Promise<string> {
  const raw = new Queue(kind, { connection: { url: TEST_REDIS_URL }, prefix });
  try {
    return await raw.getJobState(taskId);
  } finally {
    await raw.close();
  }
}

/**
 * A fetched-ahead task waits this long for a claim before it goes back: seconds, so that a busy
 * machine cannot give it back before a test looks at it (the default is 100 ms).
 */
const PREFETCH_HOLD_MS = 3_000;
/** Leases long enough for `complete` to fetch the next task ahead (at least 10 × the hold). */
const prefetching = { workerId: 'w', leaseMs: 10 * PREFETCH_HOLD_MS };

/** Enqueues `first` and `second` (kind 'k', job 'j'), claims and completes `first`: `second` is fetched ahead. */
async function completeFirst(queue: BullmqQueue, prefix: string): Promise<void> {
  await queue.enqueue(['first', 'second'].map((id) => ({ id, jobId: 'j', kind: 'k', payload: id })));
  const first = await queue.claim(prefetching);
  assert.equal(first?.id, 'first');
  assert.equal(await queue.complete(first), true);
  assert.equal(await bullmqState(prefix, 'k', 'second'), 'active', 'complete fetched the next task ahead');
}

void test('BullmqQueue: a task fetched ahead is claimed without a round trip, and counts as queued meanwhile', { skip }, async () => {
  await withPrefix(async (open, prefix) => {
    const queue = await open();
    await completeFirst(queue, prefix);
    only(await queue.counts(), { queued: 1, completed: 1 });
    only(await queue.counts('j'), { queued: 1, completed: 1 });
    assert.equal(await queue.claim({ ...prefetching, kinds: ['other'] }), undefined, 'only a claim for its kind takes it');
    const second = await queue.claim(prefetching);
    assert.equal(second?.id, 'second');
    assert.equal(second.attempts, 1);
    assert.equal(second.payload, 'second');
    assert.equal(await queue.extendLease(second, 5_000), true, 'the lease is the claimer\'s');
    assert.equal(await queue.complete(second), true);
    only(await queue.counts(), { completed: 2 });
  });
});

void test('BullmqQueue: a task fetched ahead is served at most one task before a higher-priority newcomer', { skip }, async () => {
  await withPrefix(async (open, prefix) => {
    const queue = await open();
    await completeFirst(queue, prefix);
    await queue.enqueue([{ id: 'urgent', jobId: 'j', kind: 'k', payload: null, priority: 10 }, { id: 'third', jobId: 'j', kind: 'k', payload: null }]);
    const order: string[] = [];
    for (let leased = await queue.claim(prefetching); leased; leased = await queue.claim(prefetching)) {
      order.push(leased.id);
      assert.equal(await queue.complete(leased), true);
    }
    assert.deepEqual(order, ['second', 'urgent', 'third']);
  });
});

void test('BullmqQueue: a task fetched ahead is not served before a task of another kind added here meanwhile, due earlier', { skip }, async () => {
  await withPrefix(async (open, prefix) => {
    const queue = await open();
    const now = Date.now();
    // An inspection adds its document's chunks, due before the next document, and completes.
    await queue.enqueue(['i1', 'i2', 'i3'].map((id, i) => ({ id, jobId: 'j', kind: 'inspect', payload: id, runAt: now - 100 + 10 * i })));
    const held = await queue.claim(prefetching);
    const first = await queue.claim(prefetching);
    assert.equal(first?.id, 'i2');
    assert.equal(await queue.complete(first), true);
    assert.equal(await bullmqState(prefix, 'inspect', 'i3'), 'active', 'complete fetched the next inspection ahead');
    assert.ok(held);
    await queue.enqueue([{ id: 'c1', jobId: 'j', kind: 'extract', payload: null, runAt: held.runAt - 1 }]);
    assert.equal(await queue.complete(held), true);
    const order: string[] = [];
    // A fetched job goes back on its own time: claims until both came, or 10 s passed.
    for (let tries = 0; order.length < 2 && tries < 500; tries++) {
      const leased = await queue.claim(prefetching);
      if (!leased) await sleep(20);
      else order.push(leased.id);
      if (leased) assert.equal(await queue.complete(leased), true);
    }
    assert.deepEqual(order, ['c1', 'i3']);
  });
});

void test('BullmqQueue: a task fetched ahead and not claimed is given back, its attempt not counted', { skip }, async () => {
  await withPrefix(async (open, prefix) => {
    const queue = await open();
    const other = await open();
    await completeFirst(queue, prefix);
    for (let i = 0; i < 500 && (await bullmqState(prefix, 'k', 'second')) === 'active'; i++) await sleep(20);
    assert.equal(await bullmqState(prefix, 'k', 'second'), 'prioritized', 'back in its queue after the hold');
    const second = await other.claim(claim);
    assert.equal(second?.id, 'second', 'another process can claim it');
    assert.equal(second.attempts, 1);
  });
});

void test('BullmqQueue: close gives back the tasks fetched ahead', { skip }, async () => {
  await withPrefix(async (open, prefix) => {
    const closing = await open();
    await completeFirst(closing, prefix);
    await closing.close();
    assert.equal(await bullmqState(prefix, 'k', 'second'), 'prioritized');
    const other = await open();
    const second = await other.claim(claim);
    assert.equal(second?.id, 'second');
    assert.equal(second.attempts, 1);
  });
});

void test('BullmqQueue: a cancel from another process cancels the tasks fetched ahead here', { skip }, async () => {
  await withPrefix(async (open, prefix) => {
    const holder = await open();
    const canceller = await open();
    await completeFirst(holder, prefix);
    assert.equal(await canceller.cancelJob('j'), 0, 'fetched ahead elsewhere: active in BullMQ, not counted here');
    for (let i = 0; i < 500 && (await canceller.counts('j')).cancelled === 0; i++) await sleep(20);
    only(await canceller.counts('j'), { completed: 1, cancelled: 1 });
    assert.equal(await holder.claim(prefetching), undefined);
    assert.equal(await canceller.claim(prefetching), undefined);
  });
});

void test('BullmqQueue: a task fetched ahead is not lost when its process dies', { skip }, async () => {
  await withPrefix(async (open, prefix) => {
    const queueModule = new URL('../../src/queue/bullmq-queue.ts', import.meta.url).href;
    // Fetches 'second' ahead under a 1 s lease, then dies without closing anything.
    const script = `
      const { BullmqQueue } = await import(${JSON.stringify(queueModule)});
      const queue = await BullmqQueue.open({ url: ${JSON.stringify(TEST_REDIS_URL)}, prefix: ${JSON.stringify(prefix)}, stalledCheckMs: 60_000 });
      await queue.enqueue(['first', 'second'].map((id) => ({ id, jobId: 'j', kind: 'k', payload: id })));
      const first = await queue.claim({ workerId: 'dies', leaseMs: 1_000 });
      await queue.complete(first);
      process.kill(process.pid, 'SIGKILL');`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const [, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    assert.equal(signal, 'SIGKILL', stderr);
    assert.equal(await bullmqState(prefix, 'k', 'second'), 'active', 'the dead process held it');
    const survivor = await open({ stalledCheckMs: 50 });
    let second = await survivor.claim(claim);
    for (let i = 0; i < 500 && !second; i++) {
      await sleep(20);
      second = await survivor.claim(claim);
    }
    assert.equal(second?.id, 'second', 'the lease sweep queued it again');
    assert.equal(second.attempts, 2, 'as for any task of a dead worker, the lost lease counts');
    assert.equal(await survivor.complete(second), true);
  });
});
