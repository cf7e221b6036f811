// A results file of more than a string holds (512 MiB: many documents' text, or one document's
// written in pieces) is resumed and rewritten by --retry-failed, where reading it as one string
// failed the run as a results file that cannot be written.
import assert from 'node:assert/strict';
import { constants } from 'node:buffer';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdtemp, open, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ResultsFile } from '../../src/cli/results-file.ts';
import { WHOLE_LINE_BYTES } from '../../src/cli/results-lines.ts';

const line = (path: string, status: string, extra = ''): string => `{"path":"${path}","sha256":"ab","status":"${status}","fields":{"text":"a \\"text\\" field"}${extra}`;

test('a results file of more than a string holds is resumed and its failed lines taken out, its long line kept whole', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-results-large-'));
  try {
    const path = join(dir, 'out.jsonl');
    const fd = openSync(path, 'w');
    // A document whose text is longer than a string holds, as ream writes it: its text last.
    writeSync(fd, `${line('big.txt', 'succeeded', ',"text":"')}`);
    const mb = Buffer.alloc(1024 * 1024, 'x');
    const mbs = Math.ceil(constants.MAX_STRING_LENGTH / mb.length) + 1;
    for (let i = 0; i < mbs; i++) writeSync(fd, mb);
    writeSync(fd, '"}\n');
    const bigBytes = (await stat(path)).size;
    writeSync(fd, `${line('small.txt', 'failed')}}\n`);
    writeSync(fd, `${line('mid.txt', 'succeeded', ',"pages":[')}{"page":1,"text":"é"}]}\n`);
    writeSync(fd, '{"path":"torn.txt","sta'); // a line torn by a crash: cut off
    closeSync(fd);
    assert.ok(bigBytes > WHOLE_LINE_BYTES && bigBytes > constants.MAX_STRING_LENGTH);

    const file = ResultsFile.open(path, true, dir);
    assert.equal(file.size, 3);
    assert.ok(file.has('big.txt') && file.has('small.txt') && file.has('mid.txt') && !file.has('torn.txt'));
    assert.ok(file.endedUnsucceeded('small.txt') && !file.endedUnsucceeded('big.txt'));
    assert.equal(file.redo((_absolute, status) => status === 'failed'), 1);
    file.write({ path: 'small.txt', documentId: 'd', sha256: 'ab', status: 'succeeded', mediaType: 'text/plain', size: 1, pageCount: 1, metadata: null, fields: {}, failedPages: [] } as never);
    file.close();

    // The long line, then mid.txt's, then small.txt's new one: read back from the file's end and its start.
    const size = (await stat(path)).size;
    const handle = await open(path, 'r');
    try {
      const tail = Buffer.alloc(size - bigBytes);
      await handle.read(tail, 0, tail.length, bigBytes);
      const lines = tail.toString('utf8').split('\n');
      assert.deepEqual(lines.map((raw) => raw === '' ? '' : (JSON.parse(raw) as { path: string }).path), ['mid.txt', 'small.txt', '']);
      const head = Buffer.alloc(200);
      await handle.read(head, 0, 200, 0);
      assert.ok(head.toString('utf8').startsWith(line('big.txt', 'succeeded', ',"text":"xxx')));
      const end = Buffer.alloc(4);
      await handle.read(end, 0, 4, bigBytes - 4);
      assert.equal(end.toString('utf8'), 'x"}\n');
    } finally {
      await handle.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a line too long to read whole that is no result line is refused, as a short one is', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-results-large-'));
  try {
    const path = join(dir, 'out.jsonl');
    const fd = openSync(path, 'w');
    // A `text` inside `fields` is not the line's: no status comes before it, none is found.
    writeSync(fd, '{"path":"a.txt","sha256":"ab","fields":{"text":"');
    writeSync(fd, Buffer.alloc(WHOLE_LINE_BYTES + 10, 'x'));
    writeSync(fd, '"}}\n');
    closeSync(fd);
    assert.throws(() => ResultsFile.open(path, true, dir), (error: Error & { code?: string }) => error.code === 'validation_failed' && /line 1 is no result line/.test(error.message));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
