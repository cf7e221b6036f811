// OCR in the PDF reader: a scan (an image of text, no text layer) is read back by tesseract.js
// from the npm language data; `ocr: "never"` reports the page instead; a text page is never
// rendered. Each OCR'd page costs a few CPU-seconds: the files here have one or two pages.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import { DEFAULT_OCR } from '../../src/formats/ocr/ocr-options.ts';
import { createPdfFormat } from '../../src/formats/pdf/pdf-format.ts';
import type { PdfOcrInput } from '../../src/formats/pdf/pdf-tasks.ts';
import { createFormats, type Formats } from '../../src/formats/registry.ts';
import type { Extraction, OcrOptions, ReadLimits, TaskRunner } from '../../src/formats/types.ts';
import { createThreadPool, type ThreadPool } from '../../src/runtime/thread-pool.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { makePdf, makeScannedPdf } from '../support/make-pdf.ts';
import { hasCommand, requireOrSkip } from '../support/env.ts';
import { OCR_TEST_ENGINES } from './ocr-engines.ts';
import { words } from './text-similarity.ts';

const limits: ReadLimits = { maxBytes: 50 * 2 ** 20, maxPages: 1_000 };

const SCAN = [
  ['Invoice number 4711 from Example Trading', 'The quick brown fox jumps over the lazy dog', 'Total amount due within thirty days'],
  ['Second page of the scanned letter', 'Please return the signed copy before Friday'],
];

void describe('OCR of PDF pages', () => {
  let pool: ThreadPool;
  let formats: Formats;
  let dir: string;
  let scan: string;
  let text: string;

  const read = async (path: string, ocr?: Partial<OcrOptions>): Promise<Extraction> => {
    const format = await formats.identify(path, undefined, limits);
    const { pageCount } = await format.inspect(path, limits);
    return format.extract(path, { from: 0, to: pageCount }, undefined, ocr ? { ocr: { ...DEFAULT_OCR, ...ocr } } : {});
  };

  before(async () => {
    pool = createThreadPool({ threads: 2 });
    formats = createFormats(pool);
    dir = await mkdtemp(join(tmpdir(), 'ream-ocr-'));
    scan = join(dir, 'scan.pdf');
    await writeFile(scan, await makeScannedPdf(SCAN));
    text = join(dir, 'text.pdf');
    await writeFile(text, await makePdf({ pages: ['A page with a real text layer', 'And a second one'] }));
  });
  after(async () => {
    await pool?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const engine of OCR_TEST_ENGINES) void test(`a scanned page without a text layer is read by OCR, by default (${engine})`, async (t) => {
    if (engine === 'tesseract' && !requireOrSkip(t, hasCommand('tesseract'), 'the tesseract CLI (apt-get install tesseract-ocr)')) return;
    const { pages, failures, warnings } = await read(scan, { engine });
    assert.deepEqual(failures, []);
    assert.equal(warnings, undefined);
    assert.deepEqual(pages.map((p) => [p.page, p.source]), [[1, 'ocr'], [2, 'ocr']]);
    for (const [i, page] of pages.entries()) {
      const expected = words(SCAN[i]?.join(' ') ?? '').map((w) => w.toLowerCase());
      const found = new Set(words(page.text).map((w) => w.toLowerCase()));
      const missing = expected.filter((w) => !found.has(w));
      assert.ok(missing.length <= 1, `page ${page.page}: OCR missed ${missing.join(', ')} in ${JSON.stringify(page.text)}`);
      assert.ok((page.confidence ?? 0) > 70, `confidence ${page.confidence}`);
      assert.ok((page.ocrMs ?? 0) > 0);
      assert.equal(page.ocrEngine, engine);
    }
  });

  void test('a scanned page on which OCR finds no word is no plain success: a no_text_found warning, as for an image', async () => {
    const blank = join(dir, 'blank-scan.pdf');
    await writeFile(blank, await makeScannedPdf([[], ['A second page with words on it']]));
    const { pages, failures, warnings } = await read(blank);
    assert.deepEqual(failures, []);
    assert.deepEqual(pages.map((p) => [p.page, p.source, p.text.trim() === '']), [[1, 'ocr', true], [2, 'ocr', false]]);
    assert.deepEqual(warnings?.map((w) => [w.page, w.code]), [[1, 'no_text_found']]);
  });

  void test('ocr: "never" leaves an image page empty and says so with needs_ocr', async () => {
    const { pages, failures, warnings } = await read(scan, { mode: 'never' });
    assert.deepEqual(failures, []);
    assert.deepEqual(pages.map((p) => [p.page, p.source, p.text]), [[1, 'text', ''], [2, 'text', '']]);
    assert.deepEqual(warnings?.map((w) => [w.page, w.code]), [[1, 'needs_ocr'], [2, 'needs_ocr']]);
  });

  void test('a page with a text layer is not rendered (auto), and is with ocr: "always"', async () => {
    const started = Date.now();
    const auto = await read(text);
    assert.ok(Date.now() - started < 5_000, 'no OCR time spent');
    assert.deepEqual(auto.pages.map((p) => [p.source, p.text, p.confidence]), [['text', 'A page with a real text layer', undefined], ['text', 'And a second one', undefined]]);
    const always = await read(text, { mode: 'always' });
    assert.deepEqual(always.pages.map((p) => p.source), ['ocr', 'ocr']);
    assert.match(always.pages[0]?.text ?? '', /real text layer/);
  });

  void test('a page whose OCR fails is a page failure with its code; the other pages carry on; a cancel cancels', async () => {
    // The real pool, except that OCR of page 1 fails as a broken engine or a slow page would.
    const failing = (code: 'ocr_failed' | 'cancelled'): TaskRunner => ({
      run<T>(task: string, input: Parameters<TaskRunner['run']>[1], options?: Parameters<TaskRunner['run']>[2]): Promise<T> {
        if (task === 'pdf.ocr' && (input as PdfOcrInput).page === 1) return Promise.reject(new ReamError(code, 'tesseract gave up'));
        return pool.run<T>(task, input, options);
      },
    });
    const { pages, failures } = await createPdfFormat(failing('ocr_failed')).extract(scan, { from: 0, to: 2 });
    assert.deepEqual(failures.map((f) => [f.page, f.code, f.message]), [[1, 'ocr_failed', 'tesseract gave up']]);
    assert.deepEqual(pages.map((p) => [p.page, p.source]), [[2, 'ocr']]);
    await rejectsWithCode(createPdfFormat(failing('cancelled')).extract(scan, { from: 0, to: 1 }), 'cancelled');
  });

  void test('a tesseract.js engine over its thread\'s memory budget is stopped: resource_limit, page by page', async () => {
    // 48 MB: enough for pdf.js on this small file and for the engine to load (~40 MB), not for
    // it to read a 300 DPI page (~60–100 MB).
    const small = createThreadPool({ threads: 1, maxMemoryMb: 48 });
    try {
      const { pages, failures } = await createFormats(small).byMediaType('application/pdf')?.extract(scan, { from: 0, to: 1 }, undefined, { ocr: { ...DEFAULT_OCR, engine: 'tesseractjs' } }) ?? assert.fail();
      assert.deepEqual(pages, []);
      assert.deepEqual(failures.map((f) => [f.page, f.code]), [[1, 'resource_limit']]);
      assert.match(failures[0]?.message ?? '', /over the 48 MB its thread may/);
    } finally {
      await small.destroy();
    }
  });

  void test('unknown OCR languages and resolutions are refused with validation_failed', async () => {
    await rejectsWithCode(read(scan, { languages: ['klingon'] }), 'validation_failed', /tesseract language code/);
    await rejectsWithCode(read(scan, { languages: ['tlh'] }), 'validation_failed', /install @tesseract\.js-data\/tlh/);
    await rejectsWithCode(read(scan, { dpi: 5000 }), 'validation_failed', /ocrDpi/);
  });
});
