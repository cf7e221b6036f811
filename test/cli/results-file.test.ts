import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ResultsFile, unreadableLine } from '../../src/cli/results-file.ts';

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
