import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { PAGE_CHARS, PAGE_HARD_CHARS, PAGE_LINES, PAGE_MIN_CHARS, TextPager } from '../../src/formats/text/text-pages.ts';
import { createTextFormat, TEXT_SIZE_PAGINATION } from '../../src/formats/text/text-format.ts';
import type { ReadLimits } from '../../src/formats/types.ts';
import { ReamError } from '../../src/errors.ts';

const limits: ReadLimits = { maxBytes: 2 ** 30, maxPages: 10_000 };
const format = createTextFormat('text/plain', ['.txt']);

/** The pages of `pieces` fed one after the other (a piece is what one read of the file gives). */
function pagesOf(...pieces: string[]): string[] {
  const pages: string[] = [];
  const pager = new TextPager((page) => pages.push(page));
  for (const piece of pieces) pager.push(piece);
  pager.end();
  return pages;
}

const lines = (from: number, to: number): string => Array.from({ length: to - from }, (_, i) => `line ${from + i}\n`).join('');

void describe('text pages by size', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ream-text-pages-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  void test(`a page ends after its ${PAGE_LINES}th line; the pages together are the text`, async () => {
    const text = lines(0, 7_000);
    assert.deepEqual(pagesOf(text), [lines(0, 3_000), lines(3_000, 6_000), lines(6_000, 7_000)]);
    // Read from a file in 64 KiB reads, as a document is: the same pages, the last without its line end.
    const path = join(dir, 'lines.txt');
    await writeFile(path, `${text}last`);
    // The result says how the text was cut, as it does for Word and sheets; a text split only at its form feeds has pages of its own.
    assert.deepEqual(await format.inspect(path, limits), { mediaType: 'text/plain', pageCount: 3, metadata: { pagination: TEXT_SIZE_PAGINATION } });
    const feeds = join(dir, 'feeds.txt');
    await writeFile(feeds, 'one\ftwo\f');
    assert.deepEqual(await format.inspect(feeds, limits), { mediaType: 'text/plain', pageCount: 2, metadata: {} });
    const { pages, failures } = await format.extract(path, { from: 1, to: 4 });
    assert.deepEqual(failures, [{ page: 4, code: 'invalid_text', message: 'the text has 3 pages, no page 4' }]);
    assert.deepEqual(pages, [{ page: 2, text: lines(3_000, 6_000) }, { page: 3, text: `${lines(6_000, 7_000)}last` }]);
    // A file of exactly 3,000 lines is one page, not one and an empty one.
    assert.deepEqual(pagesOf(lines(0, 3_000)), [lines(0, 3_000)]);
  });

  void test(`a page ends at the first line end past ${PAGE_CHARS} characters; a longer line is cut at ${PAGE_HARD_CHARS}`, () => {
    const line = `${'x'.repeat(999)}\n`;
    assert.deepEqual(pagesOf(line.repeat(250)), [line.repeat(100), line.repeat(100), line.repeat(50)]);
    const long = 'y'.repeat(2 * PAGE_HARD_CHARS + 5);
    assert.deepEqual(pagesOf(`a\n${long}\nb`).map((page) => page.length), [PAGE_HARD_CHARS, PAGE_HARD_CHARS, 9]);
    assert.equal(pagesOf(`a\n${long}\nb`).join(''), `a\n${long}\nb`);
    // A cut never splits a surrogate pair: the emoji goes to the next page whole.
    const emoji = `${'z'.repeat(PAGE_HARD_CHARS - 1)}😀z`;
    assert.deepEqual(pagesOf(emoji), ['z'.repeat(PAGE_HARD_CHARS - 1), '😀z']);
  });

  void test('form feeds still split; one right after a size cut opens no empty page; CRLF cut between reads is one line end', () => {
    assert.deepEqual(pagesOf('a\f\fb\f'), ['a', '', 'b']);
    assert.deepEqual(pagesOf(`${lines(0, 3_000)}\fnext`), [lines(0, 3_000), 'next']);
    assert.deepEqual(pagesOf('one\r', '\ntwo\r', '', '\r\nthree\r'), ['one\ntwo\n\nthree\n']);
    assert.deepEqual(pagesOf(''), ['']);
  });

  void test('a chunk starts reading at its first page, where the inspection (or an earlier read) found it starts, and cuts the same pages', async () => {
    // UTF-8 with a BOM and CRLF line ends, and UTF-16: the page starts are byte offsets the file's encoding gives.
    const text = `é😀 ${lines(0, 9_500).replaceAll('\n', '\r\n')}\ufeffend`;
    const files = [['utf8.txt', Buffer.from(`\ufeff${text}`)], ['utf16.txt', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')])]] as const;
    for (const [name, bytes] of files) {
      const path = join(dir, name);
      await writeFile(path, bytes);
      const sha256 = `sha-of-${name}`;
      assert.equal((await format.inspect(path, limits, undefined, { sha256 })).pageCount, 4);
      // The file's first bytes become NUL, its key kept (a stored document is known by its sha256):
      // a read from the top fails on them; one from the page's start never reads them.
      const file = await open(path, 'r+');
      await file.write(Buffer.alloc(64), 0, 64, 0);
      await file.close();
      const { pages } = await format.extract(path, { from: 2, to: 4 }, undefined, { sha256 });
      assert.deepEqual(pages.map((page) => page.page), [3, 4], name);
      assert.equal(pages[0]?.text, lines(6_000, 9_000), name);
      // The byte order mark's character inside the text is text, kept as a whole read keeps it.
      assert.equal(pages[1]?.text, `${lines(9_000, 9_500)}\ufeffend`, name);
      await assert.rejects(format.extract(path, { from: 0, to: 1 }, undefined, { sha256 }), (error) => error instanceof ReamError && error.code === 'invalid_text');
    }
  });

  void test('a read past the last page fails alike whether or not it starts at a page start noted at the text\'s end', async () => {
    // Two pages of 100,000 characters, the second ended by its size: the start noted after it is the file's end.
    const path = join(dir, 'ends-at-cut.txt');
    await writeFile(path, `${'x'.repeat(99)}\n`.repeat(2_000));
    const sha256 = 'sha-of-ends-at-cut';
    assert.equal((await format.inspect(path, limits, undefined, { sha256 })).pageCount, 2);
    for (const options of [{ sha256 }, undefined]) {
      await assert.rejects(format.extract(path, { from: 2, to: 3 }, undefined, options), (error) => error instanceof ReamError && error.code === 'invalid_text' && error.message === 'the text has 2 pages, no page 3');
    }
  });

  void test('a text whose pages a job counted at its form feeds only (an older ream) fails with pages_changed rather than lose its lines', async () => {
    const path = join(dir, 'counted-whole.txt');
    await writeFile(path, lines(0, 7_000));
    // Counted as one page: reading page 1 as now cut (3,000 lines) would drop 4,000 lines without a word.
    const changed = (error: unknown): boolean => error instanceof ReamError && error.code === 'pages_changed' && /submit the document in a new job/.test(error.message);
    await assert.rejects(format.extract(path, { from: 0, to: 1 }, undefined, { inspected: {} }), changed);
    // Found so by a whole read in this process: a chunk starting past the cut pages says so too.
    await format.inspect(path, limits);
    await assert.rejects(format.extract(path, { from: 0, to: 1 }, undefined, { inspected: {} }), changed);
    await assert.rejects(format.extract(path, { from: 2, to: 3 }, undefined, { inspected: {} }), changed);
    // Counted as this ream counts: read.
    const { pages } = await format.extract(path, { from: 2, to: 3 }, undefined, { inspected: { pagination: TEXT_SIZE_PAGINATION } });
    assert.deepEqual(pages, [{ page: 3, text: lines(6_000, 7_000) }]);
    // A text cut at its form feeds only is counted alike by both.
    const feeds = join(dir, 'counted-feeds.txt');
    await writeFile(feeds, 'one\ftwo');
    assert.deepEqual((await format.extract(feeds, { from: 1, to: 2 }, undefined, { inspected: {} })).pages, [{ page: 2, text: 'two' }]);
  });

  void test(`a page of short lines ends after its ${PAGE_LINES}th line only once it holds ${PAGE_MIN_CHARS} characters: 10 million lines are 800 pages`, async () => {
    assert.deepEqual(pagesOf('x\n'.repeat(30_000)), ['x\n'.repeat(12_500), 'x\n'.repeat(12_500), 'x\n'.repeat(5_000)]);
    const path = join(dir, 'ten-million-lines.txt');
    await writeFile(path, '7\n'.repeat(10_000_000));
    // 3,334 pages by lines alone: a third of the default maxPages for a 20 MB file.
    assert.equal((await format.inspect(path, limits)).pageCount, 800);
  });

  void test('a job counted by the rule before the characters a page holds first reads its text where that rule cut alike, else pages_changed', async () => {
    const before = 'split at its form feeds, and by size: a page ends after its 3,000th line, or at the first line end past 100,000 characters (a longer line is cut at 200,000)';
    const alike = join(dir, 'alike.txt');
    await writeFile(alike, lines(0, 7_000));
    assert.deepEqual((await format.extract(alike, { from: 1, to: 2 }, undefined, { inspected: { pagination: before } })).pages, [{ page: 2, text: lines(3_000, 6_000) }]);
    const short = join(dir, 'short.txt');
    await writeFile(short, `${'x\n'.repeat(3_000)}more`);
    await assert.rejects(format.extract(short, { from: 0, to: 1 }, undefined, { inspected: { pagination: before } }), (error) =>
      error instanceof ReamError && error.code === 'pages_changed' && error.message.includes('a page after its 3,000th line'));
  });

  void test('a page start is measured in bytes from the one before it: a read of 65,536 form feeds measures the read once, not each page from its head', async (t) => {
    const path = join(dir, 'feeds-only.txt');
    await writeFile(path, '\f'.repeat(65_536));
    let measured = 0;
    const byteLength = Buffer.byteLength.bind(Buffer);
    t.mock.method(Buffer, 'byteLength', (text: string | NodeJS.ArrayBufferView | ArrayBuffer | SharedArrayBuffer, encoding?: BufferEncoding) => {
      if (typeof text === 'string') measured += text.length;
      return byteLength(text, encoding);
    });
    assert.equal((await format.inspect(path, { maxBytes: 2 ** 30, maxPages: 100_000 })).pageCount, 65_536);
    // Each page's start measured from the read's head: 2 billion characters.
    assert.ok(measured <= 4 * 65_536, `${measured} characters measured for a 64 KiB file`);
  });

  void test('an inspection refusing a text of 2 million form feeds (too_many_pages) keeps no page start past the limit', async () => {
    const path = join(dir, 'two-million-feeds.txt');
    await writeFile(path, '\f'.repeat(2_000_000));
    // With a page start kept for each of its 2 million pages, the heap runs out before the refusal.
    const script = `
      const { createTextFormat } = await import(${JSON.stringify(new URL('../../src/formats/text/text-format.ts', import.meta.url).href)});
      const format = createTextFormat('text/plain', ['.txt']);
      await format.inspect(${JSON.stringify(path)}, { maxBytes: 2 ** 30, maxPages: 10000 }).catch((error) => console.log(error.code));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--experimental-strip-types', '--max-old-space-size=40', '--input-type=module', '-e', script]);
    assert.equal(stdout.trim(), 'too_many_pages');
  });

  void test('a 40 MB text without form feeds is read in pages without holding the file whole', async () => {
    const path = join(dir, 'big.txt');
    const out = createWriteStream(path);
    const block = `${'the quick brown fox jumps over the lazy dog '.repeat(2)}\n`.repeat(10_000);
    for (let written = 0; written < 40 * 2 ** 20; written += block.length) {
      if (!out.write(block)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    await new Promise<void>((resolve) => out.end(() => resolve()));
    // The peak RSS grows by less than the file's size: neither its bytes nor its text are held whole
    // (read whole, they took 83 MB more, in 154 MB; streamed, 16 MB more).
    const script = `
      const { createTextFormat } = await import(${JSON.stringify(new URL('../../src/formats/text/text-format.ts', import.meta.url).href)});
      const format = createTextFormat('text/plain', ['.txt']);
      const before = process.resourceUsage().maxRSS;
      const { pageCount } = await format.inspect(${JSON.stringify(path)}, { maxBytes: 2 ** 30, maxPages: 10000 });
      const { pages } = await format.extract(${JSON.stringify(path)}, { from: pageCount - 2, to: pageCount });
      console.log(JSON.stringify({ pageCount, last: pages.map((page) => page.text.length), grownMb: (process.resourceUsage().maxRSS - before) / 1024 }));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--experimental-strip-types', '--max-old-space-size=24', '--input-type=module', '-e', script]);
    const result = JSON.parse(stdout) as { pageCount: number; last: number[]; grownMb: number };
    // 89-character lines: 3,000 of them (267,000 characters) is more than a page holds, so pages end by size: 1,124 lines each.
    const lineChars = 89;
    const linesPerPage = Math.ceil(PAGE_CHARS / lineChars);
    const totalLines = Math.ceil((40 * 2 ** 20) / (lineChars * 10_000)) * 10_000;
    assert.equal(result.pageCount, Math.ceil(totalLines / linesPerPage));
    assert.deepEqual(result.last, [linesPerPage * lineChars, (totalLines % linesPerPage || linesPerPage) * lineChars]);
    assert.ok(result.grownMb < 40, `the peak RSS grew by ${result.grownMb.toFixed(0)} MB reading a 40 MB file`);
  });
});
