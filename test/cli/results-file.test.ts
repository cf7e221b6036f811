import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ResultsFile, unreadableLine } from '../../src/cli/results-file.ts';
import { openTableWriter } from '../../src/cli/table-writers.ts';
import { ReamError } from '../../src/errors.ts';
import { isCharacterDevice } from '../../src/file-kind.ts';

test('a torn last line (crash mid-write) is cut off on resume and its file counts as not done', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-results-'));
  try {
    const path = join(dir, 'out.jsonl');
    const done = JSON.stringify(unreadableLine('a.pdf', { code: 'not_found', message: 'gone' }));
    await writeFile(path, `${done}\n{"path":"b.pdf","sta`);
    const file = ResultsFile.open(path, true);
    assert.equal(file.has('a.pdf'), true);
    assert.equal(file.has('b.pdf'), false);
    assert.equal(file.write(unreadableLine('b.pdf', { code: 'io_error', message: 'x' })), true);
    assert.equal(file.write(unreadableLine('a.pdf', { code: 'io_error', message: 'x' })), false, 'never a second line for a file');
    file.close();
    const lines = (await readFile(path, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { path: string });
    assert.deepEqual(lines.map((l) => l.path), ['a.pdf', 'b.pdf']);

    const fresh = ResultsFile.open(path, false);
    assert.equal(fresh.size, 0, 'without resume the file starts over');
    fresh.close();
    assert.equal(await readFile(path, 'utf8'), '');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('--out in a folder that does not exist yet makes it; one that cannot be written is io_error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-results-'));
  try {
    const nested = join(dir, 'reports', 'today', 'out.jsonl');
    const file = ResultsFile.open(nested, false);
    file.write(unreadableLine('a.pdf', { code: 'not_found', message: 'gone' }));
    file.close();
    assert.match(await readFile(nested, 'utf8'), /"path":"a.pdf"/);
    const table = await openTableWriter(join(dir, 'tables', 'out.csv'), ['id']);
    await table.write(['1']);
    await table.close();
    assert.equal(await readFile(join(dir, 'tables', 'out.csv'), 'utf8'), 'id\n1\n');
    // A path under a plain file: no folder can be made there.
    await writeFile(join(dir, 'plain'), 'x');
    assert.throws(() => ResultsFile.open(join(dir, 'plain', 'out.jsonl'), false), (error: unknown) =>
      error instanceof ReamError && error.code === 'io_error' && error.message.includes('cannot write the results file'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an existing file that is not a results file is refused on resume and left as it was, never cut or replaced', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-results-'));
  try {
    const contents: Record<string, string> = {
      'notes.txt': 'important notes\nline two without newline',
      'cfg.json': '{"a":1}',
      'cfg-newline.json': '{"a":1}\n',
      'other.jsonl': '{"path":"a.pdf","status":"succeeded","sha256":null,"error":null}\n{"path":"b.pdf"}\n',
    };
    for (const [name, content] of Object.entries(contents)) {
      const path = join(dir, name);
      await writeFile(path, content);
      assert.throws(() => ResultsFile.open(path, true), (error: unknown) =>
        error instanceof ReamError && error.code === 'validation_failed' && /is not a ream results file.*another --out, or --no-resume/.test(error.message), name);
      assert.equal(await readFile(path, 'utf8'), content, `${name} is unchanged`);
    }
    // An empty file holds nothing to lose: it is resumed (written to) as a new one.
    const empty = join(dir, 'empty.jsonl');
    await writeFile(empty, '');
    const file = ResultsFile.open(empty, true);
    assert.equal(file.size, 0);
    file.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a character device (/dev/null) is one for both --out checks: opened to write, never read back; a file or nothing is none', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-results-device-'));
  try {
    const path = join(dir, 'out.jsonl');
    await writeFile(path, `${JSON.stringify(unreadableLine('a.pdf', { code: 'not_found', message: 'gone' }))}\n`);
    assert.deepEqual([isCharacterDevice('/dev/null'), isCharacterDevice(path), isCharacterDevice(join(dir, 'none.jsonl')), isCharacterDevice(dir)], [true, false, false, false]);
    const device = ResultsFile.open('/dev/null', true);
    assert.equal(device.size, 0, 'nothing read back from the device, resume or not');
    assert.equal(device.write(unreadableLine('a.pdf', { code: 'io_error', message: 'x' })), true);
    device.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
