import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import { createThreadPool, type ThreadPool } from '../../src/runtime/thread-pool.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';

const handlerModules = [new URL('../fixtures/pool-tasks.ts', import.meta.url)];

const rejectsWith = rejectsWithCode;

void describe('thread pool', () => {
  const pools: ThreadPool[] = [];
  const pool = (options: Parameters<typeof createThreadPool>[0] = {}): ThreadPool => {
    const created = createThreadPool({ threads: 2, handlerModules, ...options });
    pools.push(created);
    return created;
  };
  after(() => Promise.all(pools.map((p) => p.destroy())));

  void test('runs tasks on worker threads, in parallel, and returns their results', async () => {
    const p = pool({ threads: 2 });
    assert.equal(p.threads, 2);
    const echo = await p.run<{ input: unknown; threadId: number }>('test.echo', { a: [1, 'two', null] });
    assert.deepEqual(echo.input, { a: [1, 'two', null] });
    assert.ok(echo.threadId > 0, 'ran on a worker thread, not the main thread');
    const started = performance.now();
    const ids = await Promise.all([p.run<number>('test.sleep', 300), p.run<number>('test.sleep', 300)]);
    const elapsed = performance.now() - started;
    assert.notEqual(ids[0], ids[1], 'two threads shared the work');
    assert.ok(elapsed < 550, `two 300 ms tasks on two threads took ${elapsed.toFixed(0)} ms`);
  });

  void test('a ReamError thrown in a thread comes back with its code, retryability and details', async () => {
    const p = pool();
    const error = await rejectsWith(p.run('test.fail', 'encrypted_pdf'), 'encrypted_pdf', /on purpose/);
    assert.equal(error.retryable, false);
    assert.deepEqual(error.details, { page: 3 });
    await rejectsWith(p.run('test.throwPlain', null), 'internal', /a plain bug/);
    await rejectsWith(p.run('test.nope', null), 'internal', /no thread-pool task is called "test.nope"/);
  });

  void test('a task past its time limit fails with timeout, its thread is replaced, the pool keeps serving', async () => {
    const p = pool({ threads: 1, taskTimeoutMs: 5_000 });
    const started = performance.now();
    const error = await rejectsWith(p.run('test.spin', null, { timeoutMs: 300 }), 'timeout', /longer than 300 ms/);
    assert.ok(performance.now() - started < 2_000);
    assert.equal(error.retryable, false, 'a parse that ran out of time is final: a hostile file must not cost attempts × the limit');
    const echo = await p.run<{ input: unknown }>('test.echo', 'still here');
    assert.equal(echo.input, 'still here');
  });

  void test('time spent waiting for a thread does not count against the limit', async () => {
    const p = pool({ threads: 1, taskTimeoutMs: 450 });
    const results = await Promise.all([p.run('test.sleep', 300), p.run('test.sleep', 300), p.run('test.sleep', 300)]);
    assert.equal(results.length, 3);
  });

  void test('a thread that exhausts its heap dies alone: resource_limit, and the pool keeps serving', async () => {
    const p = pool({ threads: 1, maxMemoryMb: 48 });
    const error = await rejectsWith(p.run('test.oom', null), 'resource_limit', /48 MB/);
    assert.equal(error.retryable, false);
    const echo = await p.run<{ input: unknown }>('test.echo', 1);
    assert.equal(echo.input, 1);
  });

  void test('a thread that holds too much outside its heap (buffers) is stopped: resource_limit, at once, and the pool keeps serving', async () => {
    const p = pool({ threads: 1, maxMemoryMb: 64, taskTimeoutMs: 60_000 });
    const rssBefore = process.memoryUsage.rss();
    const error = await rejectsWith(p.run('test.buffers', 1024), 'resource_limit', /outside its heap.*64 MB/);
    assert.equal(error.retryable, false);
    // It was stopped near its budget, long before the 1 GB it asked for.
    assert.ok((error.details?.heldMb as number) < 512, `held ${String(error.details?.heldMb)} MB when stopped`);
    assert.ok(process.memoryUsage.rss() - rssBefore < 600 * 1024 * 1024, 'the process did not take the whole gigabyte');
    // A file's own bytes are allowed on top of the budget.
    await rejectsWith(p.run('test.buffers', 96, { extraMemoryBytes: 256 * 1024 * 1024, timeoutMs: 1_500 }), 'timeout');
    assert.equal((await p.run<{ input: unknown }>('test.echo', 4)).input, 4);
  });

  void test('a thread that exits mid-task fails that task only (internal, retryable)', async () => {
    const p = pool({ threads: 1 });
    const error = await rejectsWith(p.run('test.exit', null), 'internal', /died/);
    assert.equal(error.retryable, true);
    assert.equal((await p.run<{ input: unknown }>('test.echo', 2)).input, 2);
  });

  void test('an aborted signal cancels a running task (stopping its thread), a waiting one, or one not yet sent', async () => {
    const p = pool({ threads: 1 });
    const running = new AbortController();
    const waiting = new AbortController();
    const spin = p.run('test.spin', null, { signal: running.signal });
    const queued = p.run('test.echo', 'never', { signal: waiting.signal });
    setTimeout(() => waiting.abort(), 100);
    setTimeout(() => running.abort(new ReamError('cancelled', 'job cancelled by the user')), 200);
    await rejectsWith(queued, 'cancelled');
    await rejectsWith(spin, 'cancelled', /job cancelled by the user/);
    await rejectsWith(p.run('test.echo', 1, { signal: AbortSignal.abort() }), 'cancelled');
    assert.equal((await p.run<{ input: unknown }>('test.echo', 3)).input, 3);
  });

  void test('destroy cancels running and waiting tasks and refuses new ones', async () => {
    const p = createThreadPool({ threads: 1, handlerModules });
    const running = rejectsWith(p.run('test.spin', null), 'cancelled');
    const waiting = rejectsWith(p.run('test.echo', null), 'cancelled');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await p.destroy();
    await Promise.all([running, waiting]);
    await rejectsWith(p.run('test.echo', null), 'cancelled');
  });
});
