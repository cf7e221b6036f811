import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BroadcastChannel } from 'node:worker_threads';
import { ReamError } from '../../src/errors.ts';
import { createThreadPool, type ThreadPool } from '../../src/runtime/thread-pool.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';

const handlerModules = [new URL('../fixtures/pool-tasks.ts', import.meta.url)];

const rejectsWith = rejectsWithCode;

let channels = 0;

/**
 * The test's end of a `test.hold` task's channel: `started` resolves when the task runs on its
 * thread, `release` lets it return.
 */
function holdChannel(): { name: string; started: Promise<void>; release(): void; close(): void } {
  const name = `thread-pool-test-${process.pid}-${++channels}`;
  const bus = new BroadcastChannel(name);
  const started = new Promise<void>((resolve) => {
    bus.onmessage = (event: unknown) => {
      if (String((event as { data: unknown }).data).startsWith('started')) resolve();
    };
  });
  return { name, started, release: () => bus.postMessage('release'), close: () => bus.close() };
}

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
    // Each task waits until the other one runs too: both ending proves they ran side by side.
    const meeting = { channel: `thread-pool-test-${process.pid}-meet`, peers: 1 };
    const ids = await Promise.all([p.run<number>('test.meet', meeting), p.run<number>('test.meet', meeting)]);
    assert.notEqual(ids[0], ids[1], 'two threads shared the work');
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
    // The pool's own limit is far away: the run's 300 ms is what stops the endless loop.
    const p = pool({ threads: 1, taskTimeoutMs: 600_000 });
    const error = await rejectsWith(p.run('test.spin', null, { timeoutMs: 300 }), 'timeout', /longer than 300 ms/);
    assert.deepEqual(error.details, { task: 'test.spin', timeoutMs: 300 });
    assert.equal(error.retryable, false, 'a parse that ran out of time is final: a hostile file must not cost attempts × the limit');
    const echo = await p.run<{ input: unknown }>('test.echo', 'still here');
    assert.equal(echo.input, 'still here');
  });

  void test('time spent waiting for a thread does not count against the limit', async () => {
    // Two tasks wait behind one that holds the only thread for twice their limit; once it lets
    // go, each runs in far less than its limit and succeeds. Were the wait counted, both would
    // be past their limit before they started.
    const limitMs = 3_000;
    const p = pool({ threads: 1, taskTimeoutMs: limitMs });
    const hold = holdChannel();
    try {
      const holder = p.run<number>('test.hold', { channel: hold.name }, { timeoutMs: 600_000 });
      const waiters = [p.run<{ input: unknown }>('test.echo', 'b'), p.run<{ input: unknown }>('test.echo', 'c')];
      await hold.started;
      await sleep(2 * limitMs); // time passing is the point here: the waiters outwait their limit
      hold.release();
      await holder;
      assert.deepEqual((await Promise.all(waiters)).map((r) => r.input), ['b', 'c']);
    } finally {
      hold.close();
    }
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
    const hold = holdChannel();
    const spin = p.run('test.hold', { channel: hold.name, spin: true }, { signal: running.signal });
    const queued = p.run('test.echo', 'never', { signal: waiting.signal });
    await hold.started; // the spinning task holds the thread; the echo waits for it
    hold.close();
    waiting.abort();
    await rejectsWith(queued, 'cancelled');
    running.abort(new ReamError('cancelled', 'job cancelled by the user'));
    await rejectsWith(spin, 'cancelled', /job cancelled by the user/);
    await rejectsWith(p.run('test.echo', 1, { signal: AbortSignal.abort() }), 'cancelled');
    assert.equal((await p.run<{ input: unknown }>('test.echo', 3)).input, 3);
  });

  void test('destroy cancels running and waiting tasks and refuses new ones', async () => {
    const p = createThreadPool({ threads: 1, handlerModules });
    const hold = holdChannel();
    const running = rejectsWith(p.run('test.hold', { channel: hold.name, spin: true }), 'cancelled');
    const waiting = rejectsWith(p.run('test.echo', null), 'cancelled');
    await hold.started;
    hold.close();
    await p.destroy();
    await Promise.all([running, waiting]);
    await rejectsWith(p.run('test.echo', null), 'cancelled');
  });

  void test('threads that die as they start (a module that cannot load): every task fails with internal, saying why; then the pool gives up at once', async () => {
    const p = pool({ threads: 1, threadModule: new URL('../fixtures/broken-thread-module.ts', import.meta.url) });
    // A task handed to a starting thread fails with its death; once threads kept dying with no
    // task done, the pool says it gave up, for every task after.
    let gaveUp = false;
    for (let i = 0; i < 20 && !gaveUp; i++) {
      const error = await rejectsWith(p.run('test.echo', i), 'internal', /this thread module is broken/);
      gaveUp = /die as they start/.test(error.message);
    }
    assert.ok(gaveUp, 'the pool gave up');
    const started = performance.now();
    await rejectsWith(p.run('test.echo', 'after'), 'internal', /die as they start \(this thread module is broken\); is ream's installation complete\?/);
    assert.ok(performance.now() - started < 100, 'refused at once');
  });

  void test('destroyed while its threads still load their module, the pool lets them load first (ending one mid-load can abort the process)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ream-thread-loading-'));
    const mark = join(dir, 'loaded');
    process.env.REAM_TEST_LOADED_MARK = mark; // copied into each thread's environment as it starts
    try {
      const p = createThreadPool({ threads: 2, threadModule: new URL('../fixtures/slow-thread-module.ts', import.meta.url) });
      delete process.env.REAM_TEST_LOADED_MARK;
      await p.destroy();
      const lines = (await readFile(mark, 'utf8').catch(() => '')).split('\n').filter(Boolean);
      assert.deepEqual(lines, ['loaded', 'loaded'], 'both threads had loaded when destroy returned');
    } finally {
      delete process.env.REAM_TEST_LOADED_MARK;
      await rm(dir, { recursive: true, force: true });
    }
  });

  void test('a heap cap too small for a thread to start is refused with validation_failed, not a crash of the process', () => {
    assert.throws(() => createThreadPool({ threads: 1, maxMemoryMb: 1 }), (error: unknown) => error instanceof ReamError && error.code === 'validation_failed' && /at least 16 MB/.test(error.message));
  });
});
