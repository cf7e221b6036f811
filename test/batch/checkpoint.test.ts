import assert from 'node:assert/strict';
import { appendFile, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { processBatch } from '../../src/batch/index.ts';
import { ReamError } from '../../src/errors.ts';
import { tempDir } from './helpers.ts';

async function lines(path: string): Promise<unknown[]> {
  const text = await readFile(path, 'utf8');
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as unknown);
}

void test('a re-run skips items finished before, reporting their stored values', async (t) => {
  const path = join(await tempDir(t), 'run.checkpoint');
  const ran: string[] = [];
  let firstRun = true;
  const fn = (name: string): { length: number } => {
    ran.push(name);
    if (name === 'b' && firstRun) throw new Error('b fails the first run');
    return { length: name.length };
  };
  const first = await processBatch(['a', 'b', 'cc'], fn, { checkpoint: { path }, retry: { maxAttempts: 1 } });
  assert.deepEqual([first.succeeded, first.failed, first.skipped], [2, 1, 0]);
  assert.deepEqual(await lines(path), [{ key: 'a', value: { length: 1 } }, { key: 'cc', value: { length: 2 } }]);

  ran.length = 0;
  firstRun = false;
  const second = await processBatch(['a', 'b', 'cc'], fn, { checkpoint: { path }, retry: { maxAttempts: 1 } });
  assert.deepEqual(ran, ['b'], 'only the item that failed before runs again');
  assert.deepEqual(second.results.map((r) => [r.status, r.value, r.attempts]), [
    ['skipped', { length: 1 }, 0], ['succeeded', { length: 1 }, 1], ['skipped', { length: 2 }, 0],
  ]);
  assert.deepEqual([second.succeeded, second.failed, second.skipped], [1, 0, 2]);
});

void test('items that are not strings need a key function, which may use the item', async (t) => {
  const path = join(await tempDir(t), 'rows.checkpoint');
  const rows = [{ id: 7, n: 1 }, { id: 9, n: 2 }];
  await processBatch(rows, (row) => row.n * 10, { checkpoint: { path, key: (row) => `row-${row.id}` } });
  let calls = 0;
  const rerun = await processBatch([...rows].reverse(), (row) => (calls++, row.n), { checkpoint: { path, key: (row) => `row-${row.id}` } });
  assert.equal(calls, 0, 'keys, not positions, identify items: a reordered input is still skipped');
  assert.deepEqual(rerun.results.map((r) => r.value), [20, 10]);

  await assert.rejects(
    // @ts-expect-error -- the types refuse a checkpoint without a key for non-string items; JavaScript callers get a clear error
    processBatch(rows, (row) => row.n, { checkpoint: { path } }),
    (error: unknown) => error instanceof ReamError && error.code === 'validation_failed' && /checkpoint\.key/.test(error.message),
  );

  // A key function that answers a number (JavaScript, or an `any`) is refused before anything is
  // written: the file would otherwise be unreadable on every later run.
  const numbered = join(await tempDir(t), 'numbered.checkpoint');
  await assert.rejects(
    processBatch(rows, (row) => row.n, { checkpoint: { path: numbered, key: (row) => row.id as unknown as string } }),
    (error: unknown) => error instanceof ReamError && error.code === 'validation_failed' && /must return a string/.test(error.message),
  );
  assert.deepEqual(await readFile(numbered, 'utf8').catch(() => ''), '', 'no record written');
  const fixed = await processBatch(rows, (row) => row.n, { checkpoint: { path: numbered, key: (row) => String(row.id) } });
  assert.equal(fixed.succeeded, 2, 'the file still reads');
});

void test('a torn last line (a crash mid-write) is dropped and cut off; that item runs again', async (t) => {
  const path = join(await tempDir(t), 'torn.checkpoint');
  await writeFile(path, '{"key":"a","value":1}\n{"key":"b","val');
  const ran: string[] = [];
  const result = await processBatch(['a', 'b'], (item) => (ran.push(item), 2), { checkpoint: { path } });
  assert.deepEqual(ran, ['b']);
  assert.equal(result.results[0]?.status, 'skipped');
  assert.equal(await readFile(path, 'utf8'), '{"key":"a","value":1}\n{"key":"b","value":2}\n', 'the new record was appended on a clean line');
});

void test('a complete last record that only lost its newline is kept', async (t) => {
  const path = join(await tempDir(t), 'no-newline.checkpoint');
  await writeFile(path, '{"key":"a","value":1}');
  const result = await processBatch(['a', 'b'], () => 2, { checkpoint: { path } });
  assert.deepEqual(result.results.map((r) => r.status), ['skipped', 'succeeded']);
  assert.equal(await readFile(path, 'utf8'), '{"key":"a","value":1}\n{"key":"b","value":2}\n');
});

void test('a corrupt line in the middle refuses the batch rather than guessing', async (t) => {
  const path = join(await tempDir(t), 'corrupt.checkpoint');
  await writeFile(path, '{"key":"a","value":1}\nnot json\n{"key":"b","value":2}\n');
  let calls = 0;
  await assert.rejects(processBatch(['a'], () => calls++, { checkpoint: { path } }), /line 2/);
  assert.equal(calls, 0);
});

void test('a value that cannot be written as JSON fails its item, not the batch', async (t) => {
  const path = join(await tempDir(t), 'bigint.checkpoint');
  const result = await processBatch(['big', 'small'], (item) => (item === 'big' ? { n: 1n } : { n: 1 }), { checkpoint: { path } });
  assert.equal(result.results[0]?.status, 'failed');
  assert.equal(result.results[0]?.error?.code, 'validation_failed');
  assert.equal(result.results[1]?.status, 'succeeded');
  assert.deepEqual(await lines(path), [{ key: 'small', value: { n: 1 } }]);
});

void test('records written before a cancellation are flushed by the time the batch resolves', async (t) => {
  const path = join(await tempDir(t), 'cancel.checkpoint');
  const controller = new AbortController();
  const items = Array.from({ length: 200 }, (_, i) => `item-${i}`);
  const result = await processBatch(items, (item, { index }) => {
    if (index === 150) controller.abort();
    return item.length;
  }, { checkpoint: { path }, signal: controller.signal, concurrency: 10 });
  assert.equal(result.cancelled, true);
  assert.equal((await lines(path)).length, result.succeeded);
  await appendFile(path, ''); // the file handle is closed: another writer may open it
});

void test('the checkpoint folder is created when missing', async (t) => {
  const path = join(await tempDir(t), 'nested', 'deeper', 'run.checkpoint');
  await processBatch(['a'], () => 1, { checkpoint: { path } });
  assert.deepEqual(await lines(path), [{ key: 'a', value: 1 }]);
});

void test('records are written while the batch runs, not only at its end', async (t) => {
  const path = join(await tempDir(t), 'live.checkpoint');
  let seenMidway: unknown[] = [];
  await processBatch(['quick', 'slow'], async (item) => {
    if (item === 'slow') {
      // Still running: wait until the quick item's record is on disk (the test times out if never).
      while (seenMidway.length === 0) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        seenMidway = await lines(path).catch(() => []);
      }
    }
    return item;
  }, { checkpoint: { path } });
  assert.deepEqual(seenMidway, [{ key: 'quick', value: 'quick' }]);
});

void test('an unreadable checkpoint rejects the batch with io_error before anything runs', async (t) => {
  const dir = await tempDir(t); // a folder where the file should be
  let calls = 0;
  await assert.rejects(processBatch(['a'], () => calls++, { checkpoint: { path: dir } }), (error: unknown) => error instanceof ReamError && error.code === 'io_error');
  assert.equal(calls, 0);
});
