import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { readLines } from './lines.ts';
import { runWithin } from './run-process.ts';

// What `ream run` makes of inputs that are not plain files in plain folders.

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-inputs-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ream run inputs', () => {
  test('a named pipe is refused, never opened: named outright, a usage error; inside a folder, a failed line', async () => {
    const work = join(dir, 'fifo');
    await mkdir(join(work, 'in'), { recursive: true });
    await writeFile(join(work, 'in/a.txt'), 'plain text\n');
    // No one ever writes to these: opening one for reading would wait for a writer forever.
    execFileSync('mkfifo', [join(work, 'f.pdf'), join(work, 'in/pipe.pdf')]);
    const named = await runWithin(30_000, ['run', 'f.pdf', '-o', 'named.jsonl', '--progress', 'none'], work);
    assert.equal(named.timedOut, false, 'the run ended (it hung on the pipe)');
    assert.equal(named.code, 2, named.stderr);
    assert.match(named.stderr, /f\.pdf is not a regular file \(it is a named pipe \(FIFO\)\).*\[validation_failed\]/);

    const inFolder = await runWithin(30_000, ['run', 'in', '-o', 'folder.jsonl', '--progress', 'none'], work);
    assert.equal(inFolder.timedOut, false, 'the run ended (it hung on the pipe)');
    assert.equal(inFolder.code, 1, inFolder.stderr);
    const byPath = new Map(readLines(join(work, 'folder.jsonl')).map((line) => [line.path, line]));
    assert.equal(byPath.get('in/a.txt')?.status, 'succeeded');
    assert.equal(byPath.get('in/pipe.pdf')?.status, 'failed');
    assert.equal(byPath.get('in/pipe.pdf')?.error?.code, 'validation_failed');
    assert.match(byPath.get('in/pipe.pdf')?.error?.message ?? '', /not a regular file/);
  });
});
