// A document's result line whose text is longer than a JavaScript string can hold (536,870,888
// characters: some 5,400 pages of dense text, within the page and size limits) is written in
// pieces, where making it one string failed the run (`Invalid string length`, said as a results
// file that cannot be written).
import assert from 'node:assert/strict';
import { constants } from 'node:buffer';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { lineJson, ResultsFile, toResultLine, type TextMode } from '../../src/cli/results-file.ts';
import type { DocumentOutput } from '../../src/pipeline/types.ts';

function output(pages: string[]): DocumentOutput {
  return {
    documentId: 'doc_1', source: 'big.txt', sha256: 'ab'.repeat(32), size: 1, mediaType: 'text/plain', status: 'succeeded',
    pageCount: pages.length, metadata: null, pages: pages.map((text, i) => ({ page: i + 1, text })),
    fields: {}, failedPages: [], error: null,
  };
}

test('a line written in pieces is the same JSON as the line made one string, its text in pages or whole', () => {
  const pages = ['first "page"\nwith\ttabs and \\ and \u0001', 'second\fpage é ✓ 😀', '', 'last'];
  for (const mode of ['pages', 'full'] as TextMode[]) {
    const whole = lineJson(toResultLine('big.txt', output(pages), mode));
    assert.equal(whole.length, 1);
    // A threshold of 0 characters: every line in pieces.
    const pieces = lineJson(toResultLine('big.txt', output(pages), mode, 0), 0);
    const text = pieces.join('');
    assert.ok(text.endsWith('}\n') && !text.slice(0, -1).includes('\n'), 'one line');
    assert.ok(text.startsWith('{"path":'), 'a line ream knows as its own on resume');
    assert.deepEqual(JSON.parse(text), JSON.parse(whole[0]!));
  }
  assert.equal((JSON.parse(lineJson(toResultLine('big.txt', output(pages), 'full', 0), 0).join('')) as { text: string }).text, pages.join('\f'));
});

test('a document of more text than a string holds is written, in pages and whole, where it failed the run', async () => {
  // 5,400 pages of 100,000 characters: one string of 100,000 shared by every page, so the test holds 100 kB, not 540 MB.
  const page = 'x'.repeat(99_999) + '\n';
  const pages = Array.from({ length: Math.ceil(constants.MAX_STRING_LENGTH / page.length) + 10 }, () => page);
  const file = ResultsFile.open('/dev/null', false);
  try {
    for (const mode of ['pages', 'full'] as TextMode[]) {
      assert.equal(file.write(toResultLine(`big-${mode}.txt`, output(pages), mode)), true);
    }
  } finally {
    file.close();
  }
  // And a line of a few pages written so, to a real file, reads back.
  const dir = await mkdtemp(join(tmpdir(), 'ream-line-pieces-'));
  try {
    const path = join(dir, 'out.jsonl');
    const small = ResultsFile.open(path, false);
    small.write(toResultLine('small.txt', output(['a', 'b']), 'full', 0));
    small.close();
    assert.equal((JSON.parse(await readFile(path, 'utf8')) as { text: string }).text, 'a\fb');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
