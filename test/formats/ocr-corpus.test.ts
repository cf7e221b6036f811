// Scanned PDFs of the shared corpus are read by OCR, and what tesseract.js reads agrees with
// Debian's `tesseract` CLI run on the very same rendered page image (same renderer, same DPI):
// the words must overlap by ≥ 90% (multiset word F1) when the CLI uses the model ream ships
// (the npm package's `best_int` data), which checks the whole path (render, engine, settings).
// Debian's own language packages hold other models (`tessdata_fast`): against those the
// overlap is reported and held to a lower bar, because two models disagree by themselves (on
// the French cover the CLI with one model vs the CLI with the other: 0.89). Skips, saying so,
// without the corpus or the CLI and its language data; fails under CI=true. A few pages only:
// each costs seconds.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { DEFAULT_OCR, DEFAULT_OCR_DPI, languageDataFile } from '../../src/formats/ocr/ocr-options.ts';
import { renderPage } from '../../src/formats/pdf/page-image.ts';
import { withDocument } from '../../src/formats/pdf/pdfjs.ts';
import { createFormats, type Formats } from '../../src/formats/registry.ts';
import { createThreadPool, type ThreadPool } from '../../src/runtime/thread-pool.ts';
import { corpusDir, hasCommand, requireCorpus, requireOrSkip } from '../support/env.ts';
import { wordF1 } from './text-similarity.ts';

const run = promisify(execFile);
/** With the same model: only the engine build (WebAssembly vs native) differs. */
const MIN_WORD_OVERLAP = 0.9;
/** With Debian's model: the models differ too (see above). */
const MIN_WORD_OVERLAP_OTHER_MODEL = 0.85;

/** Scans with real text (a cover page of logos alone would compare noise with noise). */
const CASES = [
  { name: 'npm-pdf-extract__single_page_raw.pdf', page: 1, language: 'eng' },
  { name: 'npm-pdf-extract__multipage_raw.pdf', page: 2, language: 'eng' },
  { name: 'lang-french__cover__couverture.pdf', page: 1, language: 'fra' },
];

/** The languages the `tesseract` CLI has data for (none when it is missing). */
async function cliLanguages(): Promise<Set<string>> {
  if (!hasCommand('tesseract')) return new Set();
  const { stdout } = await run('tesseract', ['--list-langs']);
  return new Set(stdout.split('\n').slice(1).map((line) => line.trim()).filter(Boolean));
}

void describe('OCR of the corpus\'s scans against the tesseract CLI', () => {
  let pool: ThreadPool;
  let formats: Formats;
  let dir: string;
  let languages: Set<string>;

  before(async () => {
    pool = createThreadPool({ threads: 2 });
    formats = createFormats(pool);
    dir = await mkdtemp(join(tmpdir(), 'ream-ocr-corpus-'));
    languages = await cliLanguages();
  });
  after(async () => {
    await pool?.destroy();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const { name, page, language } of CASES) {
    void test(`${name} page ${page} (${language})`, async (t) => {
      if (!requireCorpus(t)) return;
      if (!requireOrSkip(t, languages.has(language), `the tesseract CLI with ${language} data (apt-get install tesseract-ocr tesseract-ocr-${language})`)) return;
      const path = join(corpusDir, name);
      const ocr = { ...DEFAULT_OCR, languages: [language] };
      const pdf = formats.byMediaType('application/pdf');
      assert.ok(pdf);
      const { pages, failures } = await pdf.extract(path, { from: page - 1, to: page }, undefined, { ocr });
      assert.deepEqual(failures, []);
      const [ours] = pages;
      assert.equal(ours?.source, 'ocr', 'the page has no usable text layer: OCR reads it');

      const image = join(dir, `${name}-${page}.png`);
      await writeFile(image, await withDocument(path, async (doc) => renderPage(await doc.getPage(page), DEFAULT_OCR_DPI)));
      const cli = async (...extra: string[]): Promise<string> => {
        const args = [image, '-', '-l', language, '--dpi', String(DEFAULT_OCR_DPI), ...extra];
        return (await run('tesseract', args, { maxBuffer: 16 * 2 ** 20 })).stdout;
      };
      const tessdata = join(dir, 'tessdata');
      await mkdir(tessdata, { recursive: true });
      await writeFile(join(tessdata, `${language}.traineddata`), gunzipSync(await readFile(languageDataFile(language))));
      const sameModel = wordF1(ours.text, await cli('--tessdata-dir', tessdata));
      const debianModel = wordF1(ours.text, await cli());
      t.diagnostic(`word overlap with the CLI: ${sameModel.toFixed(3)} (same model), ${debianModel.toFixed(3)} (Debian's model); confidence ${ours.confidence}, ${ours.ocrMs} ms`);
      assert.ok(sameModel >= MIN_WORD_OVERLAP, `word overlap with the tesseract CLI (same model) ${sameModel.toFixed(3)} < ${MIN_WORD_OVERLAP}`);
      assert.ok(debianModel >= MIN_WORD_OVERLAP_OTHER_MODEL, `word overlap with the tesseract CLI (Debian's model) ${debianModel.toFixed(3)} < ${MIN_WORD_OVERLAP_OTHER_MODEL}`);
    });
  }
});
