// Fault injection with real processes: a worker killed with SIGKILL while holding a lease, and
// workers in separate processes (separate SQLite connections) racing for the same tasks.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { SqliteQueue } from '../../src/queue/sqlite-queue.ts';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { sleep } from '../conformance/suite.ts';

const worker = fileURLToPath(new URL('./fixtures/claim-worker.ts', import.meta.url));

/** Starts the worker; `line(i)` resolves with its stdout line number `i` (from 0), the child still running. */
function startWorker(args: string[]) {
  const child = spawn(process.execPath, [worker, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (data: string) => (out += data));
  const line = (index: number): Promise<string> => new Promise<string>((resolve, reject) => {
    const check = (): boolean => {
      const lines = out.split('\n');
      if (lines.length <= index + 1) return false;
      resolve(lines[index] ?? '');
      return true;
    };
    if (check()) return;
    const onData = (): void => void (check() && child.stdout.off('data', onData));
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`worker exited (${code}) before line ${index}: ${out}`)));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, line, exited };
}

void test('a worker killed (SIGKILL) while holding a lease: the task is reclaimed after the lease, attempts 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-queue-kill-'));
  const path = join(dir, 'ream.db');
  const database = openSqliteDatabase(path);
  try {
    const queue = await SqliteQueue.open(database);
    await queue.enqueue([{ id: 'victim', jobId: 'j', kind: 'k', payload: null }]);
    // A lease of a few seconds: spawning and killing a process on a busy machine can take most
    // of a second, and the lease must still hold when the survivor first looks.
    const { child, line, exited } = startWorker([path, 'hang', '3000']);
    assert.equal(await line(0), 'claimed victim');
    child.kill('SIGKILL');
    await exited;
    assert.equal(await queue.claim({ workerId: 'survivor', leaseMs: 30_000 }), undefined, 'the lease still holds');
    let reclaimed = await queue.claim({ workerId: 'survivor', leaseMs: 30_000 });
    for (let i = 0; i < 100 && !reclaimed; i++) {
      await sleep(100);
      reclaimed = await queue.claim({ workerId: 'survivor', leaseMs: 30_000 });
    }
    assert.equal(reclaimed?.id, 'victim', 'reclaimed once the lease ran out');
    assert.equal(reclaimed.attempts, 2);
    assert.equal(await queue.complete(reclaimed), true);
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
});

void test('workers in three processes never complete the same task twice (900 tasks)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-queue-procs-'));
  const path = join(dir, 'ream.db');
  const database = openSqliteDatabase(path);
  try {
    const queue = await SqliteQueue.open(database);
    const ids = Array.from({ length: 900 }, (_, i) => `t${i}`);
    // Enqueued once every process is ready and polling, so that they race from the same moment.
    const workers = [0, 1, 2].map(() => startWorker([path, 'drain']));
    for (const w of workers) assert.equal(await w.line(0), 'ready');
    await queue.enqueue(ids.map((id) => ({ id, jobId: 'j', kind: 'k', payload: null })));
    const perWorker = (await Promise.all(workers.map((w) => w.line(1)))).map((line) => JSON.parse(line) as string[]);
    assert.ok(perWorker.filter((ids) => ids.length > 0).length >= 2, `the processes did not race: ${perWorker.map((ids) => ids.length).join(', ')}`);
    const done = perWorker.flat();
    await Promise.all(workers.map((w) => w.exited));
    assert.equal(done.length, ids.length, 'each task completed exactly once');
    assert.deepEqual(new Set(done), new Set(ids));
    assert.equal((await queue.counts()).completed, ids.length);
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
});
