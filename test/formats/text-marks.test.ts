// The page starts a process keeps of the texts it read (text-marks.ts) are bounded by bytes over
// all files, and reads that start from them, or find none kept, cut the same pages.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { createTextFormat } from '../../src/formats/text/text-format.ts';
import { forgetMarks, MARKS_MAX_BYTES, marksBytes, marksOf, noteStarts, START_BYTES, STARTS_KEPT } from '../../src/formats/text/text-marks.ts';
import { fileKey } from '../../src/formats/file-key.ts';

const format = createTextFormat('text/plain', ['.txt']);
const limits = { maxBytes: 2 ** 30, maxPages: 10_000_000 };
let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-text-marks-'));
});
after(() => rm(dir, { recursive: true, force: true }));

/** A text of `pages` pages, each its own number, at form feeds: a page start per few bytes. */
async function numbered(name: string, pages: number): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, Array.from({ length: pages }, (_, i) => `${name}:${i + 1}`).join('\f'));
  return path;
}

test('the marks of texts read one after the other stay under their bound in bytes, on the heap as well as by their estimate', async () => {
  const pages = 100_000;
  const paths = await Promise.all(Array.from({ length: 5 }, (_, i) => numbered(`t${i}`, pages)));
  // Kept by page count (200,000 starts for each of 8 files), 500,000 starts took some 50 MB.
  assert.ok(5 * pages * START_BYTES > MARKS_MAX_BYTES, 'the texts have more starts than the marks hold');
  const script = `
    const { createTextFormat } = await import(${JSON.stringify(new URL('../../src/formats/text/text-format.ts', import.meta.url).href)});
    const marks = await import(${JSON.stringify(new URL('../../src/formats/text/text-marks.ts', import.meta.url).href)});
    const format = createTextFormat('text/plain', ['.txt']);
    globalThis.gc();
    const before = process.memoryUsage().heapUsed;
    const estimates = [];
    for (const path of ${JSON.stringify(paths)}) {
      await format.inspect(path, ${JSON.stringify(limits)});
      estimates.push(marks.marksBytes());
    }
    globalThis.gc();
    console.log(JSON.stringify({ estimates, grown: process.memoryUsage().heapUsed - before }));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--experimental-strip-types', '--expose-gc', '--input-type=module', '-e', script]);
  const { estimates, grown } = JSON.parse(stdout) as { estimates: number[]; grown: number };
  for (const estimate of estimates) assert.ok(estimate <= MARKS_MAX_BYTES, `${estimate} bytes of marks, over ${MARKS_MAX_BYTES}`);
  assert.ok(estimates.at(-1)! > MARKS_MAX_BYTES / 2, 'the marks are used up to their bound');
  // The heap holds the marks (and the modules loaded), not much more than the estimate.
  assert.ok(grown < MARKS_MAX_BYTES * 1.25, `the heap grew by ${(grown / 2 ** 20).toFixed(1)} MB for marks bounded at ${MARKS_MAX_BYTES / 2 ** 20} MB`);
});

test('reads of a text whose marks were dropped, or that has more pages than the marks hold, cut the same pages', async () => {
  forgetMarks();
  const big = await numbered('big', STARTS_KEPT + 20_000);
  const inspection = await format.inspect(big, limits);
  assert.equal(inspection.pageCount, STARTS_KEPT + 20_000);
  assert.ok(marksBytes() <= MARKS_MAX_BYTES);
  const kept = marksOf(await fileKey(big, undefined))?.starts.size ?? 0;
  assert.ok(kept > STARTS_KEPT - 10 && kept <= STARTS_KEPT, `${kept} starts kept`);
  const pagesOf = async (from: number, to: number): Promise<string[]> => (await format.extract(big, { from, to })).pages.map((page) => page.text);
  const expected = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => `big:${from + i + 1}`);
  // Within the starts kept, past them (read from the last one), and at the end.
  for (const [from, to] of [[10, 20], [STARTS_KEPT - 5, STARTS_KEPT + 5], [STARTS_KEPT + 19_990, STARTS_KEPT + 20_000]] as const) {
    assert.deepEqual(await pagesOf(from, to), expected(from, to));
  }
  assert.ok(marksBytes() <= MARKS_MAX_BYTES);
  // Another text read after it takes the room of the big one's marks: it is read from its top, the same.
  const small = await numbered('small', 1_000);
  await format.inspect(small, limits);
  assert.ok(marksOf(await fileKey(small, undefined)), 'the text read last has its marks');
  assert.equal(marksOf(await fileKey(big, undefined)), undefined, 'the least recently read text gave up its marks');
  assert.deepEqual(await pagesOf(STARTS_KEPT + 100, STARTS_KEPT + 103), expected(STARTS_KEPT + 100, STARTS_KEPT + 103));
  assert.deepEqual((await format.extract(small, { from: 500, to: 502 })).pages.map((page) => page.text), ['small:501', 'small:502']);
  assert.ok(marksBytes() <= MARKS_MAX_BYTES);
});

test('the marks of many one-page texts, which note no page start, stay under their bound: the least recently read go', () => {
  forgetMarks();
  // More files than the bound holds even with no starts (512 bytes each): before, each kept an entry for good.
  const files = Math.ceil(MARKS_MAX_BYTES / 512) + 1_000;
  for (let i = 0; i < files; i++) noteStarts(`one-page-${i}`, 'utf-8', new Map(), { cutBySize: false, longPages: false });
  assert.ok(marksBytes() <= MARKS_MAX_BYTES, `${marksBytes()} bytes of marks, over ${MARKS_MAX_BYTES}`);
  assert.equal(marksOf('one-page-0'), undefined, 'the first file read gave up its marks');
  assert.ok(marksOf(`one-page-${files - 1}`), 'the file read last keeps its marks');
  forgetMarks();
});
