import assert from 'node:assert/strict';
import type { LeasedTask, NewTask, TaskQueue, TaskStatus } from '../../src/queue/port.ts';
import { registerSuite, sleep, type ConformanceCase, type ConformanceOptions, type Harness } from './suite.ts';

type Subject = { queue: TaskQueue };

const LEASE = 30_000;
const claimOpts = { workerId: 'w1', leaseMs: LEASE };
const boom = { code: 'internal' as const, message: 'boom' };

let counter = 0;
function task(overrides: Partial<NewTask> = {}): NewTask {
  counter += 1;
  return { id: `t${counter}-${Math.random().toString(36).slice(2)}`, jobId: 'job1', kind: 'work', payload: { n: counter }, ...overrides };
}

async function claimOrFail(queue: TaskQueue, options: Partial<Parameters<TaskQueue['claim']>[0]> = {}): Promise<LeasedTask> {
  const leased = await queue.claim({ ...claimOpts, ...options });
  assert.ok(leased, 'expected a task to claim');
  return leased;
}

async function drain(queue: TaskQueue): Promise<string[]> {
  const ids: string[] = [];
  for (let leased = await queue.claim(claimOpts); leased; leased = await queue.claim(claimOpts)) {
    ids.push(leased.id);
    assert.equal(await queue.complete(leased), true);
  }
  return ids;
}

function only(counts: Record<TaskStatus, number>, expected: Partial<Record<TaskStatus, number>>, message?: string): void {
  assert.deepEqual(counts, { waiting: 0, queued: 0, leased: 0, completed: 0, failed: 0, cancelled: 0, ...expected }, message);
}

const cases: ConformanceCase<Subject>[] = [
  {
    name: 'claim leases a queued task with its fields and defaults',
    async run({ queue }) {
      const input = task({ payload: { nested: [1, 'two', null, { ok: true }] } });
      const added = Date.now();
      assert.equal(await queue.enqueue([input]), 1);
      const before = Date.now();
      const leased = await claimOrFail(queue);
      assert.ok(leased.runAt >= added && leased.runAt <= before, `runAt defaults to when it was added (${leased.runAt})`);
      assert.equal(leased.id, input.id);
      assert.equal(leased.jobId, input.jobId);
      assert.equal(leased.kind, input.kind);
      assert.deepEqual(leased.payload, input.payload);
      assert.equal(leased.priority, 0);
      assert.equal(leased.attempts, 1);
      assert.equal(leased.maxAttempts, 3);
      assert.equal(leased.parentId, undefined);
      assert.ok(leased.leaseToken.length > 0);
      assert.ok(leased.leaseUntil >= before + LEASE && leased.leaseUntil <= Date.now() + LEASE);
      assert.equal(await queue.claim(claimOpts), undefined, 'a leased task is not handed out twice');
      assert.equal(await queue.complete(leased), true);
      only(await queue.counts(), { completed: 1 });
    },
  },
  {
    name: 'enqueue dedupes by task id, whatever the state of the existing task',
    async run({ queue }) {
      const a = task();
      assert.equal(await queue.enqueue([a, task()]), 2);
      assert.equal(await queue.enqueue([a]), 0);
      const leased = await claimOrFail(queue);
      assert.equal(await queue.enqueue([{ ...a, payload: 'changed' }]), 0);
      await queue.complete(leased);
      assert.equal(await queue.enqueue([a]), 0, 'a completed id still dedupes');
      assert.equal(await queue.enqueue([]), 0);
      const counts = await queue.counts();
      assert.equal(counts.queued + counts.completed, 2);
    },
  },
  {
    name: 'claims higher priority first, then earlier runAt, then insertion order',
    async run({ queue }) {
      const now = Date.now();
      const low = task({ priority: -1 });
      const normalLate = task({ runAt: now - 1_000 });
      const normalEarly = task({ runAt: now - 5_000 });
      const normalSame1 = task({ runAt: now - 500 });
      const normalSame2 = task({ runAt: now - 500 });
      const high = task({ priority: 10 });
      await queue.enqueue([low, normalLate, normalEarly]);
      await queue.enqueue([normalSame1, normalSame2, high]);
      assert.deepEqual(await drain(queue), [high.id, normalEarly.id, normalLate.id, normalSame1.id, normalSame2.id, low.id]);
    },
  },
  {
    name: 'a task added later with an earlier runAt is claimed first, whatever its kind',
    async run({ queue }) {
      const now = Date.now();
      // A document's chunks take its inspection's place: added after the inspections queued behind it, due before them.
      const later = task({ kind: 'inspect', runAt: now - 1_000 });
      await queue.enqueue([later]);
      const earlier = task({ kind: 'extract', runAt: now - 5_000 });
      await queue.enqueue([earlier]);
      assert.deepEqual(await drain(queue), [earlier.id, later.id]);
    },
  },
  {
    name: 'a task is not claimable before its runAt',
    async run({ queue }) {
      // Seconds of margin both ways: a busy machine must not make the task due before the first claim.
      const runAt = Date.now() + 3_000;
      const later = task({ runAt });
      await queue.enqueue([later]);
      assert.equal(await queue.claim(claimOpts), undefined);
      await sleep(Math.max(0, runAt - Date.now()) + 100);
      assert.equal((await claimOrFail(queue)).id, later.id);
    },
  },
  {
    name: 'claim takes only the given kinds',
    async run({ queue }) {
      const a = task({ kind: 'a' });
      const b = task({ kind: 'b' });
      await queue.enqueue([a, b]);
      assert.equal((await claimOrFail(queue, { kinds: ['b'] })).id, b.id);
      assert.equal(await queue.claim({ ...claimOpts, kinds: ['b', 'c'] }), undefined);
      assert.equal((await claimOrFail(queue, { kinds: ['a', 'c'] })).id, a.id);
    },
  },
  {
    name: 'an expired lease is reclaimed with attempts + 1 and the stale holder loses',
    async run({ queue }) {
      await queue.enqueue([task()]);
      const first = await claimOrFail(queue, { workerId: 'dies', leaseMs: 100 });
      await sleep(250);
      const second = await claimOrFail(queue, { workerId: 'takes-over' });
      assert.equal(second.id, first.id);
      assert.equal(second.attempts, 2);
      assert.equal(second.runAt, first.runAt, 'taken over, it keeps its runAt');
      assert.notEqual(second.leaseToken, first.leaseToken);
      assert.equal(await queue.extendLease(first, LEASE), false);
      assert.equal(await queue.complete(first), false);
      assert.equal(await queue.fail(first, boom, 0), 'lost');
      assert.equal(await queue.complete(second), true);
      assert.equal(await queue.complete(second), false, 'completing twice is refused');
      only(await queue.counts(), { completed: 1 });
    },
  },
  {
    name: 'release gives a task back at once without counting the attempt',
    async run({ queue }) {
      await queue.enqueue([task({ maxAttempts: 1 })]);
      const first = await claimOrFail(queue);
      assert.equal(await queue.release(first), true);
      assert.equal(await queue.release(first), false, 'the lease is gone after a release');
      assert.equal(await queue.complete(first), false);
      const again = await claimOrFail(queue);
      assert.equal(again.id, first.id);
      assert.equal(again.attempts, 1, 'a shutdown is not an attempt');
      assert.equal(await queue.complete(again), true);
      only(await queue.counts(), { completed: 1 });
    },
  },
  {
    name: 'a heartbeat keeps the lease',
    async run({ queue }) {
      await queue.enqueue([task()]);
      // Three beats 1.5 s apart outlast one 4 s lease; each beat has 2.5 s of margin to land.
      const leased = await claimOrFail(queue, { leaseMs: 4_000 });
      for (let i = 0; i < 3; i++) {
        await sleep(1_500);
        assert.equal(await queue.extendLease(leased, 4_000), true);
      }
      assert.ok(leased.leaseUntil > Date.now(), 'extendLease moves leaseUntil');
      assert.equal(await queue.claim(claimOpts), undefined);
      assert.equal(await queue.complete(leased), true);
    },
  },
  {
    name: 'a lease that expires on the last attempt fails the task for good',
    async run({ queue }) {
      const expired: string[] = [];
      const off = queue.onLeaseExpired((t, error) => expired.push(`${t.id}:${error.code}`));
      const doomed = task({ maxAttempts: 1 });
      await queue.enqueue([doomed]);
      await claimOrFail(queue, { leaseMs: 100 });
      await sleep(250);
      assert.equal(await queue.claim(claimOpts), undefined);
      only(await queue.counts(), { failed: 1 });
      for (const deadline = Date.now() + 10_000; expired.length === 0 && Date.now() < deadline; ) await sleep(10);
      assert.deepEqual(expired, [`${doomed.id}:worker_lost`], 'the queue tells who failed a task behind a worker');
      off();
    },
  },
  {
    name: 'fail with a delay retries later, its runAt kept; without one it fails for good',
    async run({ queue }) {
      const a = task({ runAt: Date.now() - 60_000 });
      await queue.enqueue([a]);
      const first = await claimOrFail(queue);
      // A delay of seconds: a busy machine must not make the retry due before the claim below.
      const due = Date.now() + 3_000;
      assert.equal(await queue.fail(first, boom, 3_000), 'retrying');
      only(await queue.counts(), { queued: 1 });
      assert.equal(await queue.claim(claimOpts), undefined, 'not before the retry delay');
      await sleep(Math.max(0, due - Date.now()) + 100);
      const second = await claimOrFail(queue);
      assert.equal(second.attempts, 2);
      assert.equal(second.runAt, a.runAt, 'a retry keeps its place in the claim order, and hands it to the tasks it adds');
      assert.equal(await queue.fail(second, boom), 'failed');
      assert.equal(await queue.fail(second, boom), 'lost', 'a failed lease is no longer ours');
      only(await queue.counts(), { failed: 1 });
      assert.equal(await queue.enqueue([a]), 0, 'a failed id still dedupes');
    },
  },
  {
    name: 'maxAttempts caps retries',
    async run({ queue }) {
      await queue.enqueue([task({ maxAttempts: 2 })]);
      const first = await claimOrFail(queue);
      assert.equal(first.maxAttempts, 2);
      assert.equal(await queue.fail(first, boom, 0), 'retrying');
      const second = await claimOrFail(queue);
      assert.equal(second.attempts, 2);
      assert.equal(await queue.fail(second, boom, 0), 'failed');
      assert.equal(await queue.claim(claimOpts), undefined);
    },
  },
  {
    name: 'a flow parent waits until every child has completed',
    async run({ queue }) {
      const parent = task({ kind: 'merge', payload: 'parent' });
      const children = [task(), task(), task()];
      await queue.enqueueFlow(parent, children);
      only(await queue.counts(), { waiting: 1, queued: 3 });
      const leased = [await claimOrFail(queue), await claimOrFail(queue), await claimOrFail(queue)];
      assert.deepEqual(new Set(leased.map((t) => t.id)), new Set(children.map((t) => t.id)));
      assert.ok(leased.every((t) => t.parentId === parent.id));
      assert.equal(await queue.claim(claimOpts), undefined, 'the parent is not claimable while children run');
      await queue.complete(leased[0] as LeasedTask);
      await queue.complete(leased[1] as LeasedTask);
      assert.equal(await queue.claim(claimOpts), undefined);
      await queue.complete(leased[2] as LeasedTask);
      const merged = await claimOrFail(queue);
      assert.equal(merged.id, parent.id);
      assert.equal(merged.parentId, undefined);
      assert.equal(merged.payload, 'parent');
    },
  },
  {
    name: 'a released flow parent goes before tasks of its priority made after it (a document finishes before later documents\' chunks run)',
    async run({ queue }) {
      const first = task({ kind: 'merge', payload: 'first' });
      const firstChild = task({ kind: 'extract' });
      await queue.enqueueFlow(first, [firstChild]);
      await sleep(5); // later documents are inspected later
      const later = task({ kind: 'merge', payload: 'later' });
      const laterChildren = [task({ kind: 'extract' }), task({ kind: 'extract' }), task({ kind: 'extract' })];
      await queue.enqueueFlow(later, laterChildren);
      const child = await claimOrFail(queue);
      assert.equal(child.id, firstChild.id, 'tasks of one priority: the oldest first');
      await queue.complete(child);
      const next = await claimOrFail(queue);
      assert.equal(next.id, first.id, 'the first document\'s merge, not a later document\'s chunk');
      await queue.complete(next);
      assert.deepEqual(new Set(await drain(queue)), new Set([...laterChildren.map((t) => t.id), later.id]));
    },
  },
  {
    name: 'a flow child that fails for good releases its parent',
    async run({ queue }) {
      const parent = task({ kind: 'merge' });
      await queue.enqueueFlow(parent, [task({ maxAttempts: 1 }), task()]);
      const a = await claimOrFail(queue);
      const b = await claimOrFail(queue);
      assert.equal(await queue.fail(a, boom, 0), 'failed');
      assert.equal(await queue.fail(b, boom, 0), 'retrying', 'a retrying child keeps the parent waiting');
      assert.equal(await queue.claim({ ...claimOpts, kinds: ['merge'] }), undefined);
      const again = await claimOrFail(queue);
      assert.equal(await queue.fail(again, boom), 'failed');
      assert.equal((await claimOrFail(queue)).id, parent.id);
    },
  },
  {
    name: 'a flow without children queues its parent at once',
    async run({ queue }) {
      const parent = task();
      await queue.enqueueFlow(parent, []);
      assert.equal((await claimOrFail(queue)).id, parent.id);
    },
  },
  {
    name: 'enqueueFlow is idempotent by the parent id',
    async run({ queue }) {
      const parent = task();
      const children = [task(), task()];
      await queue.enqueueFlow(parent, children);
      await queue.enqueueFlow(parent, children);
      await queue.enqueueFlow(parent, [...children, task()]);
      only(await queue.counts(), { waiting: 1, queued: 2 });
      const ids = await drain(queue);
      assert.deepEqual(ids.slice(-1), [parent.id]);
      assert.equal(ids.length, 3);
    },
  },
  {
    name: 'cancelJob cancels queued and waiting tasks of that job only',
    async run({ queue }) {
      await queue.enqueue([task({ jobId: 'keep' }), task({ jobId: 'gone', runAt: Date.now() + 60_000 })]);
      await queue.enqueueFlow(task({ jobId: 'gone' }), [task({ jobId: 'gone' }), task({ jobId: 'gone' })]);
      assert.equal(await queue.cancelJob('gone'), 4);
      only(await queue.counts('gone'), { cancelled: 4 });
      only(await queue.counts('keep'), { queued: 1 });
      assert.equal(await queue.cancelJob('gone'), 0);
      assert.equal((await claimOrFail(queue)).jobId, 'keep');
      assert.equal(await queue.claim(claimOpts), undefined);
    },
  },
  {
    name: 'cancelJob stops a leased task from being retried',
    async run({ queue }) {
      await queue.enqueue([task({ jobId: 'gone' })]);
      const leased = await claimOrFail(queue);
      assert.equal(await queue.cancelJob('gone'), 0, 'leased tasks are not counted as cancelled');
      const outcome = await queue.fail(leased, { code: 'cancelled', message: 'cancelled' }, 0);
      assert.equal(outcome, 'failed');
      assert.equal(await queue.claim(claimOpts), undefined);
    },
  },
  {
    name: 'counts by status, overall and per job',
    async run({ queue }) {
      only(await queue.counts(), {});
      await queue.enqueue([task({ jobId: 'a' }), task({ jobId: 'a' }), task({ jobId: 'b' })]);
      await queue.enqueueFlow(task({ jobId: 'b', priority: -5 }), [task({ jobId: 'b', priority: 5 })]);
      const child = await claimOrFail(queue);
      assert.equal(child.jobId, 'b');
      only(await queue.counts(), { waiting: 1, queued: 3, leased: 1 });
      only(await queue.counts('a'), { queued: 2 });
      only(await queue.counts('b'), { waiting: 1, queued: 1, leased: 1 });
      await queue.complete(child);
      only(await queue.counts('b'), { queued: 2, completed: 1 });
      only(await queue.counts('none'), {});
    },
  },
  {
    name: 'per-job counts stay exact through dedupe, retries, release and flows',
    async run({ queue }) {
      // Each step claims by kind, so the other steps' tasks cannot get in the way.
      const a = task({ jobId: 'j', kind: 'a' });
      assert.equal(await queue.enqueue([a, task({ jobId: 'j', kind: 'b' })]), 2);
      assert.equal(await queue.enqueue([a, { ...a, payload: 'again' }]), 0);
      only(await queue.counts('j'), { queued: 2 });
      const first = await claimOrFail(queue, { kinds: ['a'] });
      only(await queue.counts('j'), { queued: 1, leased: 1 });
      assert.equal(await queue.release(first), true);
      only(await queue.counts('j'), { queued: 2 });
      assert.equal(await queue.fail(await claimOrFail(queue, { kinds: ['a'] }), boom, 0), 'retrying');
      only(await queue.counts('j'), { queued: 2 });
      assert.equal(await queue.enqueue([a]), 0, 'a retried id still dedupes');
      const second = await claimOrFail(queue, { kinds: ['a'] });
      assert.equal(await queue.fail(second, boom), 'failed');
      assert.equal(await queue.fail(second, boom), 'lost');
      only(await queue.counts('j'), { queued: 1, failed: 1 });

      const parent = task({ jobId: 'j', kind: 'merge' });
      const children = [task({ jobId: 'j', kind: 'part' }), task({ jobId: 'j', kind: 'part', maxAttempts: 1 })];
      await queue.enqueueFlow(parent, children);
      await queue.enqueueFlow(parent, children);
      only(await queue.counts('j'), { waiting: 1, queued: 3, failed: 1 });
      assert.equal(await queue.complete(await claimOrFail(queue, { kinds: ['part'] })), true);
      only(await queue.counts('j'), { waiting: 1, queued: 2, completed: 1, failed: 1 });
      assert.equal(await queue.fail(await claimOrFail(queue, { kinds: ['part'] }), boom, 0), 'failed');
      only(await queue.counts('j'), { queued: 2, completed: 1, failed: 2 }, 'the last child released its parent');
      const merged = await claimOrFail(queue, { kinds: ['merge'] });
      assert.equal(merged.id, parent.id);
      only(await queue.counts('j'), { queued: 1, leased: 1, completed: 1, failed: 2 });
      assert.equal(await queue.complete(merged), true);
      assert.equal(await queue.complete(await claimOrFail(queue, { kinds: ['b'] })), true);
      only(await queue.counts('j'), { completed: 3, failed: 2 });
      only(await queue.counts('other'), {});
    },
  },
  {
    name: 'per-job counts stay exact through cancel',
    async run({ queue }) {
      await queue.enqueue([task({ jobId: 'c', kind: 'held' }), task({ jobId: 'c', kind: 'a' }), task({ jobId: 'c', kind: 'a', runAt: Date.now() + 60_000 })]);
      await queue.enqueueFlow(task({ jobId: 'c', kind: 'merge' }), [task({ jobId: 'c', kind: 'a' }), task({ jobId: 'c', kind: 'a' })]);
      await queue.enqueue([task({ jobId: 'kept', kind: 'a' })]);
      const held = await claimOrFail(queue, { kinds: ['held'] });
      only(await queue.counts('c'), { waiting: 1, queued: 4, leased: 1 });
      assert.equal(await queue.cancelJob('c'), 5);
      only(await queue.counts('c'), { leased: 1, cancelled: 5 });
      assert.equal(await queue.cancelJob('c'), 0);
      only(await queue.counts('c'), { leased: 1, cancelled: 5 }, 'a second cancel counts nothing twice');
      assert.equal(await queue.fail(held, { code: 'cancelled', message: 'cancelled' }, 0), 'failed');
      only(await queue.counts('c'), { cancelled: 6 }, 'a running task that stops for the cancel is cancelled, not failed');
      only(await queue.counts('kept'), { queued: 1 });
      only(await queue.counts(), { queued: 1, cancelled: 6 }, 'overall too');
    },
  },
  {
    name: 'per-job counts stay exact through lease expiry, taken over and on the last attempt',
    async run({ queue }) {
      // Leases of 3 s: each count below is read within that time of its claim, which a busy
      // machine must not be able to stretch past the lease (100 ms leases failed under load).
      const lease = 3_000;
      const untilExpired = (): number => Date.now() + 60_000;
      await queue.enqueue([task({ jobId: 'e', maxAttempts: 2 })]);
      const first = await claimOrFail(queue, { leaseMs: lease });
      only(await queue.counts('e'), { leased: 1 });
      // Claims until the expired lease is taken over (attempt 2, again on a 3 s lease).
      let second = await queue.claim({ ...claimOpts, leaseMs: lease });
      for (const deadline = untilExpired(); !second && Date.now() < deadline; ) {
        await sleep(100);
        second = await queue.claim({ ...claimOpts, leaseMs: lease });
      }
      assert.equal(second?.id, first.id);
      assert.equal(second.attempts, 2);
      only(await queue.counts('e'), { leased: 1 });
      assert.equal(await queue.complete(first), false, 'the stale holder moves nothing');
      only(await queue.counts('e'), { leased: 1 });
      // The second lease expires on the last attempt: the next claims fail it for good.
      for (const deadline = untilExpired(); (await queue.counts('e')).failed === 0 && Date.now() < deadline; ) {
        await sleep(100);
        assert.equal(await queue.claim(claimOpts), undefined);
      }
      only(await queue.counts('e'), { failed: 1 });
      assert.equal(await queue.complete(second), false);
      only(await queue.counts('e'), { failed: 1 });
    },
  },
  {
    name: 'backlog of an empty queue has no levels, nor after its tasks ended',
    async run({ queue }) {
      assert.deepEqual(await queue.backlog(), []);
      await queue.enqueue([task({ priority: 3 })]);
      assert.equal((await queue.backlog()).length, 1);
      assert.equal((await drain(queue)).length, 1);
      assert.deepEqual(await queue.backlog(), []);
    },
  },
  {
    name: 'backlog counts queued, delayed and running tasks per priority, highest first, with the oldest due runAt',
    async run({ queue }) {
      const now = Date.now();
      await queue.enqueue([
        task({ priority: 10, runAt: now - 60_000 }),
        task({ priority: 10, runAt: now - 1_000 }),
        task({ priority: 10, runAt: now - 500 }),
        task({ runAt: now - 5_000 }),
        task({ runAt: now + 60_000 }),
      ]);
      // A flow parent waiting for its child is not backlog; the child is.
      await queue.enqueueFlow(task({ kind: 'merge', priority: 5 }), [task({ priority: 5, runAt: now - 2_000 })]);
      const leased = await claimOrFail(queue);
      assert.equal(leased.priority, 10);
      assert.deepEqual(await queue.backlog(), [
        { priority: 10, queued: 2, delayed: 0, running: 1, oldestQueuedAt: now - 1_000 },
        { priority: 5, queued: 1, delayed: 0, running: 0, oldestQueuedAt: now - 2_000 },
        { priority: 0, queued: 1, delayed: 1, running: 0, oldestQueuedAt: now - 5_000 },
      ]);
      assert.equal(await queue.complete(leased), true);
      const [top] = await queue.backlog();
      assert.equal(top?.priority, 10);
      assert.equal(top.running + top.queued, 2, 'the completed task left the backlog');
    },
  },
  {
    name: 'backlog: a retry waiting out its delay is delayed; due again, it keeps its first runAt',
    async run({ queue }) {
      const now = Date.now();
      await queue.enqueue([task({ priority: 2, runAt: now - 30_000 }), task({ priority: 2, runAt: now - 20_000 })]);
      const first = await claimOrFail(queue);
      const second = await claimOrFail(queue);
      assert.deepEqual(await queue.backlog(), [{ priority: 2, queued: 0, delayed: 0, running: 2, oldestQueuedAt: null }]);
      assert.equal(await queue.fail(first, boom, 60_000), 'retrying');
      assert.equal(await queue.fail(second, boom, 0), 'retrying');
      assert.deepEqual(await queue.backlog(), [{ priority: 2, queued: 1, delayed: 1, running: 0, oldestQueuedAt: now - 20_000 }]);
    },
  },
  {
    name: 'waitForWork wakes on enqueue',
    async run({ queue }) {
      // The wait would last a minute: waking well before that can only be the enqueue's doing.
      const started = Date.now();
      const waiting = queue.waitForWork(60_000);
      setTimeout(() => void queue.enqueue([task()]), 50);
      await waiting;
      assert.ok(Date.now() - started < 30_000, `woke after ${Date.now() - started} ms`);
      assert.ok(await queue.claim(claimOpts));
    },
  },
  {
    name: 'waitForWork returns after maxWaitMs, or when its signal aborts',
    async run({ queue }) {
      let started = Date.now();
      await queue.waitForWork(100);
      const waited = Date.now() - started;
      assert.ok(waited >= 90 && waited < 30_000, `waited ${waited} ms`);
      const controller = new AbortController();
      started = Date.now();
      setTimeout(() => controller.abort(), 50);
      await queue.waitForWork(60_000, controller.signal);
      assert.ok(Date.now() - started < 30_000, 'the abort, not the minute-long timeout, ended the wait');
      await queue.waitForWork(5_000, controller.signal); // already aborted: at once
    },
  },
  {
    name: 'concurrent claimers never get the same task (4 × 200 tasks, each exactly once)',
    async run({ queue }) {
      const ids = Array.from({ length: 200 }, (_, i) => `c${i}-${Math.random().toString(36).slice(2)}`);
      await queue.enqueue(ids.map((id) => task({ id })));
      const seen: string[] = [];
      const worker = async (workerId: string): Promise<void> => {
        for (;;) {
          const leased = await queue.claim({ workerId, leaseMs: LEASE });
          if (!leased) return;
          seen.push(leased.id);
          assert.equal(await queue.complete(leased), true);
        }
      };
      await Promise.all(['a', 'b', 'c', 'd'].map(worker));
      assert.equal(seen.length, 200);
      assert.deepEqual(new Set(seen), new Set(ids));
      only(await queue.counts(), { completed: 200 });
    },
  },
];

/** Registers the queue port's contract (src/queue/port.ts) against one adapter. */
export function queueConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('queue', name, make, cases, options);
}
