import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FsBlobStore } from '../../src/blobs/fs-blob-store.ts';
import { runCommand, type RunOptions } from '../../src/cli/run-command.ts';
import { DocumentTasks } from '../../src/runtime/document-tasks.ts';
import { ReamError, toReamError } from '../../src/errors.ts';

// A data dir whose disk is full: every file would fail alike, so the run stops with one clear
// error instead of a failed line per file, and the next run (once there is room) does them.

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-disk-full-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function noSpace(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC', errno: -28, syscall: 'write' });
}

test('a write that finds no room (ENOSPC, EDQUOT, SQLite full) is an io_error saying the disk is full, not internal', () => {
  for (const error of [noSpace(), Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' }), new Error('store failed', { cause: noSpace() })]) {
    const converted = toReamError(error);
    assert.equal(converted.code, 'io_error', error.message);
    assert.equal(converted.retryable, true);
    assert.match(converted.message, /no space left/);
  }
  assert.equal(toReamError(new Error('something else')).code, 'internal');
});

test('ream run stops at a full disk, writing no failed line, and the next run does every file', async (t) => {
  const work = join(dir, 'run');
  await mkdir(join(work, 'in'), { recursive: true });
  for (let i = 0; i < 30; i++) await writeFile(join(work, `in/f${String(i).padStart(2, '0')}.txt`), `file ${i}\n`);
  const options: RunOptions = { out: join(work, 'out.jsonl'), dataDir: join(work, '.ream'), text: 'pages', progress: 'none', threads: 1 };
  const put = t.mock.method(FsBlobStore.prototype, 'put', () => Promise.reject(noSpace()));
  await assert.rejects(runCommand([join(work, 'in')], options, new AbortController().signal), (error: unknown) => {
    assert.ok(error instanceof ReamError);
    assert.equal(error.code, 'io_error');
    assert.match(error.message, /no space left/);
    return true;
  });
  assert.ok(put.mock.callCount() < 30, `stopped adding files at the first full write (${put.mock.callCount()} tried)`);
  const lines = existsSync(options.out) ? readFileSync(options.out, 'utf8').split('\n').filter(Boolean) : [];
  assert.deepEqual(lines, [], 'no file is marked failed for want of room: the next run does it');

  put.mock.restore();
  const summary = await runCommand([join(work, 'in')], options, new AbortController().signal);
  assert.equal(summary.succeeded, 30);
  assert.equal(summary.failed, 0);
  assert.equal(readFileSync(options.out, 'utf8').split('\n').filter(Boolean).length, 30);
});

test('ream run stops at a disk that fills while its files are read (after they went in), instead of waiting on tasks that cannot be recorded', { timeout: 60_000 }, async (t) => {
  const work = join(dir, 'reading');
  await mkdir(join(work, 'in'), { recursive: true });
  for (let i = 0; i < 5; i++) await writeFile(join(work, `in/f${i}.txt`), `file ${i}\n`);
  const options: RunOptions = { out: join(work, 'out.jsonl'), dataDir: join(work, '.ream'), text: 'pages', progress: 'none', threads: 1 };
  const run = t.mock.method(DocumentTasks.prototype, 'run', () => Promise.reject(new Error('checkpoint not written', { cause: noSpace() })));
  await assert.rejects(runCommand([join(work, 'in')], options, new AbortController().signal), (error: unknown) => {
    assert.ok(error instanceof ReamError);
    assert.equal(error.code, 'io_error');
    assert.match(error.message, /no space left/);
    return true;
  });
  const lines = existsSync(options.out) ? readFileSync(options.out, 'utf8').split('\n').filter(Boolean) : [];
  assert.deepEqual(lines, [], 'no file is marked failed for want of room');

  run.mock.restore();
  const summary = await runCommand([join(work, 'in')], options, new AbortController().signal);
  assert.deepEqual([summary.succeeded, summary.failed], [5, 0]);
});
