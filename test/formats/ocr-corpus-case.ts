// Scanned PDFs of the shared corpus are read by OCR, and what tesseract.js reads agrees with
// Debian's `tesseract` CLI run on the very same rendered page image (same renderer, same DPI):
// the words must overlap by ≥ 90% (multiset word F1) when the CLI uses the model ream ships
// (the npm package's `best_int` data), which checks the whole path (render, engine, settings).
// Debian's own language packages hold other models (`tessdata_fast`), which disagree with ours by
// themselves (on the French cover the CLI with one model vs the CLI with the other: 0.89), so
// they are not compared here; the CLI runs on one thread, as ours does. Skips, saying so,
// without the corpus or the CLI; fails under CI=true. A few pages only, each in a test file of
// its own (ocr-corpus-<n>.test.ts): a page costs seconds. Each page is read by both engines.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { describe, test } from 'node:test';
import { DEFAULT_OCR, DEFAULT_OCR_DPI, languageDataFile } from '../../src/formats/ocr/ocr-options.ts';
import { renderPage } from '../../src/formats/pdf/page-image.ts';
import { withDocument } from '../../src/formats/pdf/pdfjs.ts';
import type { OcrEngine, ReadLimits } from '../../src/formats/types.ts';
import { corpusDir, hasCommand, requireCorpus, requireOrSkip } from '../support/env.ts';
import { formatsFixture } from '../support/formats-fixture.ts';
import { OCR_TEST_ENGINES } from './ocr-engines.ts';
import { wordF1 } from './text-similarity.ts';

const run = promisify(execFile);
/** With the same model: only the engine build (WebAssembly vs native) differs. */
const MIN_WORD_OVERLAP = 0.9;
/** The readers' limits (only the one scanned page is read). */
const LIMITS: ReadLimits = { maxBytes: 50 * 2 ** 20, maxPages: 1_000 };

/** Scans with real text (a cover page of logos alone would compare noise with noise). */
export const OCR_CORPUS_CASES = [
  { name: 'npm-pdf-extract__single_page_raw.pdf', page: 1, language: 'eng' },
  { name: 'npm-pdf-extract__multipage_raw.pdf', page: 2, language: 'eng' },
  { name: 'lang-french__cover__couverture.pdf', page: 1, language: 'fra' },
];


/**
 * Registers the comparison of case `index` of {@link OCR_CORPUS_CASES} with `engines` (default
 * both; a slow page is split, an engine per file, so that no file runs near its time limit).
 */
export function ocrCorpusCase(index: number, engines: readonly Exclude<OcrEngine, 'auto'>[] = OCR_TEST_ENGINES): void {
  const one = OCR_CORPUS_CASES[index];
  if (!one) throw new Error(`no OCR corpus case ${index}`);
  void describe(`OCR of the corpus's scans against the tesseract CLI (${index + 1} of ${OCR_CORPUS_CASES.length}; ${engines.join(', ')})`, () => {
    const fixture = formatsFixture('ream-ocr-corpus-', LIMITS, 2);

    for (const engine of engines) {
      const { name, page, language } = one;
      void test(`${name} page ${page} (${language}), ${engine}`, async (t) => {
        if (!requireCorpus(t)) return;
        // The CLI reads ream's own model (--tessdata-dir): Debian's language packages are not needed.
        if (!requireOrSkip(t, hasCommand('tesseract'), 'the tesseract CLI (apt-get install tesseract-ocr)')) return;
        const path = join(corpusDir, name);
        const ocr = { ...DEFAULT_OCR, languages: [language], engine };
        const pdf = fixture.formats().byMediaType('application/pdf');
        assert.ok(pdf);
        const { pages, failures } = await pdf.extract(path, { from: page - 1, to: page }, undefined, { ocr });
        assert.deepEqual(failures, []);
        const [ours] = pages;
        assert.equal(ours?.source, 'ocr', 'the page has no usable text layer: OCR reads it');
        assert.equal(ours.ocrEngine, engine);

        const image = join(fixture.dir(), `${name}-${page}.png`);
        await writeFile(image, await withDocument(path, async (doc) => renderPage(await doc.getPage(page), DEFAULT_OCR_DPI)));
        const cli = async (...extra: string[]): Promise<string> => {
          const args = [image, '-', '-l', language, '--dpi', String(DEFAULT_OCR_DPI), ...extra];
          return (await run('tesseract', args, { maxBuffer: 16 * 2 ** 20, env: { ...process.env, OMP_THREAD_LIMIT: '1' } })).stdout;
        };
        const tessdata = join(fixture.dir(), 'tessdata');
        await mkdir(tessdata, { recursive: true });
        await writeFile(join(tessdata, `${language}.traineddata`), gunzipSync(await readFile(languageDataFile(language))));
        const sameModel = wordF1(ours.text, await cli('--tessdata-dir', tessdata));
        t.diagnostic(`${engine}: word overlap with the tesseract CLI: ${sameModel.toFixed(3)}; confidence ${ours.confidence}, ${ours.ocrMs} ms`);
        assert.ok(sameModel >= MIN_WORD_OVERLAP, `word overlap with the tesseract CLI ${sameModel.toFixed(3)} < ${MIN_WORD_OVERLAP}`);
      });
    }
  });
}
