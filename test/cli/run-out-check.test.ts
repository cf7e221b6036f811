import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { run, runWithin } from './run-process.ts';

// A `--out` that could never be written is refused before the data dir is made or opened: the
// user learns it at once, and no data dir (a database, a lock) is left behind for nothing.

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-out-check-'));
  await mkdir(join(dir, 'in'));
  await writeFile(join(dir, 'in', 'a.txt'), 'a note\n');
  await mkdir(join(dir, 'folder'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('--out naming a folder or a path under a file is refused with io_error, the data dir never made', async () => {
  const cases: Array<[string, RegExp]> = [
    ['folder', /cannot write the results file .*folder: it is not a regular file \(it is a directory\)/],
    [join('in', 'a.txt', 'out.jsonl'), /cannot write the results file .*out\.jsonl: .*a\.txt is not a folder/],
  ];
  for (const [out, message] of cases) {
    const data = `data-${cases.findIndex(([o]) => o === out)}`;
    const result = await run(['run', 'in', '--out', out, '--data-dir', data, '--progress', 'none'], dir);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, message);
    assert.match(result.stderr, /\[io_error\]\n$/);
    assert.equal(existsSync(join(dir, data)), false, `--out ${out}: the data dir is not made`);
  }
});

test('a writable --out passes the check untouched: a new one is not left behind by it, an existing one keeps its lines', async () => {
  const result = await run(['run', 'in', '--out', join('new', 'out.jsonl'), '--data-dir', 'data-ok', '--progress', 'none'], dir);
  assert.equal(result.code, 0, result.stderr);
  const again = await run(['run', 'in', '--out', join('new', 'out.jsonl'), '--data-dir', 'data-ok', '--progress', 'none'], dir);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /1 already done \(resumed\)/);
});

test('--out a link to a results file not made yet is written through, as before the check', async () => {
  await mkdir(join(dir, 'kept'));
  await symlink(join(dir, 'kept', 'results.jsonl'), join(dir, 'linked.jsonl'));
  const result = await run(['run', 'in', '--out', 'linked.jsonl', '--data-dir', 'data-link', '--progress', 'none'], dir);
  assert.equal(result.code, 0, result.stderr);
  assert.match(await readFile(join(dir, 'kept', 'results.jsonl'), 'utf8'), /"status":"succeeded"/);
});

test('an --out where no folder can be made (under /proc) is refused at once, where Node\'s recursive mkdir retried it for ever', { skip: process.platform !== 'linux' && 'needs /proc' }, async () => {
  await writeFile(join(dir, 'table.csv'), 'a,b\n1,2\n');
  const cases = [
    ['run', 'in', '--out', '/proc/ream-no-such/out.jsonl', '--data-dir', 'data-proc', '--progress', 'none'],
    ['rows', 'table.csv', '--out', '/proc/ream-no-such/out.csv', '--data-dir', 'data-proc-rows', '--progress', 'none'],
  ];
  for (const args of cases) {
    // Killed after a minute: a hang (deaf to SIGTERM: the loop is synchronous) fails here rather than stalling the suite.
    const result = await runWithin(60_000, args, dir);
    assert.equal(result.timedOut, false, `ream ${args.join(' ')} hung`);
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, /ENOENT: no such file or directory, mkdir '\/proc\/ream-no-such'/);
  }
});
