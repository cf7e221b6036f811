import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fixturesDir } from '../support/env.ts';
import { numberedPages, writePdf } from '../support/make-pdf.ts';
import { readLines } from './lines.ts';
import { run } from './run-process.ts';

let work: string;
before(async () => {
  work = await mkdtemp(join(tmpdir(), 'ream-run-retry-'));
  await copyFile(join(fixturesDir, 'encrypted-user-password.pdf'), join(work, 'locked.pdf'));
  await writePdf(join(work, 'open.pdf'), { pages: numberedPages('Open', 1) });
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('an encrypted file that failed is retried with the password given then: --retry-failed --pdf-password', async () => {
  const base = ['run', 'locked.pdf', 'open.pdf', '--out', 'out.jsonl', '--progress', 'none'];
  const first = await run(base, work);
  assert.equal(first.code, 1, first.stderr);
  const failed = new Map(readLines(join(work, 'out.jsonl')).map((line) => [line.path, line.error?.code ?? line.status]));
  assert.deepEqual(Object.fromEntries(failed), { 'locked.pdf': 'encrypted_pdf', 'open.pdf': 'succeeded' });

  // A plain resume with the password is another command: refused, as any other changed option.
  const other = await run([...base, '--pdf-password', 'user-secret'], work);
  assert.equal(other.code, 2);
  assert.match(other.stderr, /holds results made with other settings \(options differ\)/);

  // With --retry-failed the password may be given: only the failed file is read again.
  const retried = await run([...base, '--pdf-password', 'user-secret', '--retry-failed'], work);
  assert.equal(retried.code, 0, retried.stdout + retried.stderr);
  assert.match(retried.stdout, /done: 1 succeeded, 0 failed, 1 already done \(resumed\) of 2 file\(s\)/);
  const lines = readLines(join(work, 'out.jsonl'));
  assert.equal(lines.length, 2);
  const locked = lines.find((line) => line.path === 'locked.pdf');
  assert.equal(locked?.status, 'succeeded');
  assert.deepEqual(locked?.pages?.map((page) => page.text), ['Secret page one', 'Secret page two']);
  assert.doesNotMatch(JSON.stringify(lines), /user-secret/, 'the password is in no line');

  // The command with the password is now the command of this results file: a plain resume of it.
  const again = await run([...base, '--pdf-password', 'user-secret'], work);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, /2 already done \(resumed\) of 2 file\(s\)/);
  // Other options still may not change, --retry-failed or not.
  const otherText = await run([...base, '--pdf-password', 'user-secret', '--retry-failed', '--text', 'none'], work);
  assert.equal(otherText.code, 2);
  assert.match(otherText.stderr, /other settings \(options, text differ\)/);
});
