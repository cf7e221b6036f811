// How a failed task is retried: a service that does not answer (`unavailable`) is given seconds
// before the next attempt, other retryable failures the policy's short backoff.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReamError, toReamError } from '../../src/errors.ts';
import type { LeasedTask, TaskQueue } from '../../src/queue/port.ts';
import type { JobRecord } from '../../src/store/port.ts';
import { settleFailure, type FailureContext } from '../../src/runtime/task-failure.ts';

const task: LeasedTask = { id: 't', jobId: 'j', kind: 'chunk.extract', payload: null, priority: 0, attempts: 1, maxAttempts: 3, parentId: undefined, runAt: 0, leaseToken: 'l', leaseUntil: 0 };

/** The delays `settleFailure` asks the queue to wait before each retry of `error`. */
async function delaysFor(error: ReamError, runs: number): Promise<number[]> {
  const delays: number[] = [];
  const queue = { fail: (_task: LeasedTask, _error: unknown, delay?: number) => (delays.push(delay ?? -1), Promise.resolve('retried')) } as unknown as TaskQueue;
  const context: FailureContext = {
    queue,
    store: { getJob: () => Promise.resolve({ status: 'running' } as JobRecord) },
    tasks: { failed: () => Promise.resolve() },
    leaseMs: 30_000,
    retryPolicy: () => ({ baseMs: 500, maxMs: 30_000 }),
  };
  for (let i = 0; i < runs; i++) assert.equal(await settleFailure(context, task, error), 'retried');
  return delays;
}

test('a task failed with unavailable waits 2.5 to 5 s before its next attempt; a flaky read, up to the policy\'s half second', async () => {
  const flaky = await delaysFor(ReamError.retryable('io_error', 'a read failed'), 200);
  assert.ok(Math.max(...flaky) <= 500, `io_error: up to the 500 ms base (${Math.max(...flaky)})`);
  const down = await delaysFor(ReamError.retryable('unavailable', 'S3 does not answer'), 200);
  assert.ok(Math.max(...down) <= 5_000 && Math.min(...down) >= 2_500, `unavailable: 2.5 to 5 s (${Math.min(...down)}–${Math.max(...down)})`);
});

test('a task that failed because PostgreSQL or Redis did not answer is retried as unavailable, seconds apart, not as internal', async () => {
  const failures = [
    // What node-postgres throws while PostgreSQL's connection slots are all taken (after an outage, every process reconnects at once).
    Object.assign(new Error('sorry, too many clients already'), { code: '53300' }),
    new Error('Connection terminated due to connection timeout'),
    Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
    new Error('Command timed out'),
  ];
  for (const failure of failures) {
    const error = toReamError(failure);
    assert.deepEqual([error.code, error.retryable], ['unavailable', true], failure.message);
    const delays = await delaysFor(error, 20);
    assert.ok(Math.min(...delays) >= 2_500, `${failure.message}: at least 2.5 s before the next attempt (${Math.min(...delays)})`);
  }
  assert.equal(toReamError(new TypeError('x is undefined')).code, 'internal', 'a fault of ream\'s own stays internal');
});
