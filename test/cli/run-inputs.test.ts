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

  test('a usage error naming a file with a line break or a terminal escape in its name is one line, escaped', async () => {
    const work = join(dir, 'hostile-missing');
    await mkdir(work, { recursive: true });
    const name = 'no\nforged line.pdf\u001b)0\u0007';
    const missing = await runWithin(30_000, ['run', name, '-o', 'out.jsonl', '--progress', 'none'], work);
    assert.equal(missing.code, 2, missing.stderr);
    assert.equal(missing.stderr, 'ream: no such file or directory: no\\u{a}forged line.pdf\\u{1b})0\\u{7} [not_found]\n');
  });

  test('a resume from another folder knows the files by their absolute paths, and names new ones as the file does', async () => {
    const work = join(dir, 'elsewhere');
    await mkdir(join(work, 'in'), { recursive: true });
    await writeFile(join(work, 'in/a.txt'), 'a\n');
    await writeFile(join(work, 'in/b.txt'), 'b\n');
    const first = await runWithin(60_000, ['run', 'in', '-o', 'out.jsonl', '--progress', 'none'], work);
    assert.equal(first.code, 0, first.stderr);
    await writeFile(join(work, 'in/c.txt'), 'c\n');
    const again = await runWithin(60_000, ['run', '.', '-o', '../out.jsonl', '--data-dir', '../.ream', '--progress', 'none'], join(work, 'in'));
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /1 succeeded, 0 failed, 2 already done/);
    // Lines come in the order files end, which two threads may swap.
    assert.deepEqual(readLines(join(work, 'out.jsonl')).map((line) => line.path).sort(), ['in/a.txt', 'in/b.txt', 'in/c.txt'],
      'one line per file, each named from the folder the results file was started in');

    // From yet another folder, with the data dir of none of the runs (a new .ream here): the folder
    // the lines name files from is found from where those files are, and nothing is written twice.
    await writeFile(join(work, 'in/d.txt'), 'd\n');
    await mkdir(join(work, 'in/sub'), { recursive: true });
    const third = await runWithin(60_000, ['run', '..', '-o', '../../out.jsonl', '--progress', 'none'], join(work, 'in/sub'));
    assert.equal(third.code, 0, third.stderr);
    assert.match(third.stdout, /1 succeeded, 0 failed, 3 already done/);
    assert.deepEqual(readLines(join(work, 'out.jsonl')).map((line) => line.path).sort(), ['in/a.txt', 'in/b.txt', 'in/c.txt', 'in/d.txt']);

    // Started inside the input folder, resumed from its parent: the input folder is where they are.
    const inner = join(dir, 'inner');
    await mkdir(join(inner, 'in'), { recursive: true });
    for (const name of ['f1', 'f2', 'f3']) await writeFile(join(inner, 'in', `${name}.txt`), `${name}\n`);
    assert.equal((await runWithin(60_000, ['run', '.', '-o', '../out.jsonl', '--progress', 'none'], join(inner, 'in'))).code, 0);
    await writeFile(join(inner, 'in', 'f4.txt'), 'f4\n');
    const fromParent = await runWithin(60_000, ['run', 'in', '-o', 'out.jsonl', '--progress', 'none'], inner);
    assert.equal(fromParent.code, 0, fromParent.stderr);
    assert.match(fromParent.stdout, /1 succeeded, 0 failed, 3 already done/);
    assert.deepEqual(readLines(join(inner, 'out.jsonl')).map((line) => line.path).sort(), ['f1.txt', 'f2.txt', 'f3.txt', 'f4.txt']);
  });
});
