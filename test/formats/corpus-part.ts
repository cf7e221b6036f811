// Every file of the shared corpus ends as its manifest says (a CSV is read as a table), and the text of ordinary PDFs
// matches poppler's pdftotext; an `ok` PDF with a text layer meets the fidelity bar (fidelity-bar.ts). Skips, saying so, without the corpus or pdftotext (fails under CI).
// The corpus is split into parts (corpus-<n>.test.ts, one per part) so that the parts run side by
// side and no test file takes minutes; together they cover every file of the manifest.
import { DEFAULT_OCR } from '../../src/formats/ocr/ocr-options.ts';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import { DEFAULT_CHUNK_PAGES } from '../../src/pipeline/builtin.ts';
import { createFormats, type Formats } from '../../src/formats/registry.ts';
import { CSV_MEDIA_TYPE } from '../../src/formats/sniff.ts';
import type { Extraction, Inspection, ReadLimits } from '../../src/formats/types.ts';
import { createThreadPool, type ThreadPool } from '../../src/runtime/thread-pool.ts';
import { hasCommand, hasCorpus, readManifest, requireCorpus, requireOrSkip, type CorpusEntry } from '../support/env.ts';
import { DEFAULT_PDF_ENGINE } from '../../src/formats/pdf/pdf-options.ts';
import { PDFIUM_WORD_BREAK_EXCEPTIONS } from './pdfium-layout-exceptions.ts';
import { fidelityOf, heldToBar, lettersKept, meetsBar, NO_TEXT_LAYER } from './fidelity-bar.ts';
import { letterF1, nonSpaceCount, wordF1 } from './text-similarity.ts';

const run = promisify(execFile);
const limits: ReadLimits = { maxBytes: 200 * 2 ** 20, maxPages: 10_000 };
/** Pages per extract call: the engine's default chunk, so two threads share a big file. */
const CHUNK_PAGES = DEFAULT_CHUNK_PAGES;

/**
 * Thresholds, from this corpus (pdf.js vs pdftotext 22.12): letter F1 is ≥ 0.99 on every
 * ordinary text PDF (a lost CMap takes a third of a CJK page: ≈ 0.8); word F1 is ≥ 0.89 (the
 * lowest are Greek and Persian manuals where the two disagree on word breaks, and math).
 * CJK non-space character counts agree within 0.2%.
 */
const MIN_LETTER_F1 = 0.98;
const MIN_WORD_F1 = 0.85;
const MAX_CJK_COUNT_DIFF = 0.02;

const NO_OCR = { ...DEFAULT_OCR, mode: 'never' as const };
const CJK = ['cjk', 'ja', 'ko', 'zh', 'zh_CN'];

interface Outcome {
  inspection: Inspection;
  text: string;
  extraction: Required<Extraction>;
}

async function read(formats: Formats, entry: CorpusEntry): Promise<Outcome> {
  const format = await formats.identify(entry.path, entry.name, limits);
  const inspection = await format.inspect(entry.path, limits);
  const ranges = [];
  for (let from = 0; from < inspection.pageCount; from += CHUNK_PAGES) {
    ranges.push({ from, to: Math.min(inspection.pageCount, from + CHUNK_PAGES) });
  }
  // Text layers only: OCR costs seconds a page, and ocr-corpus.test.ts reads the scans by OCR.
  // With `never` the decision is still made: a page that would be OCR'd gets `needs_ocr`.
  const chunks = await Promise.all(ranges.map((range) => format.extract(entry.path, range, undefined, { ocr: NO_OCR })));
  const extraction = {
    pages: chunks.flatMap((c) => c.pages),
    failures: chunks.flatMap((c) => c.failures),
    warnings: chunks.flatMap((c) => c.warnings ?? []),
  };
  return { inspection, extraction, text: extraction.pages.map((p) => p.text).join('\n') };
}

async function pdftotext(path: string): Promise<string> {
  const { stdout } = await run('pdftotext', ['-enc', 'UTF-8', path, '-'], { maxBuffer: 256 * 2 ** 20 });
  return stdout;
}

/** How many corpus-<n>.test.ts files there are; each covers the entries `partOf` gives it. */
export const CORPUS_PARTS = 6;

/**
 * Deals the entries into `parts` groups of about equal size in bytes (largest first, each to the
 * lightest group so far): the same entries always land in the same part, and every entry in one.
 */
export function partOf(entries: readonly CorpusEntry[], part: number, parts: number): CorpusEntry[] {
  const groups = Array.from({ length: parts }, () => ({ bytes: 0, entries: [] as CorpusEntry[] }));
  const bySize = [...entries].sort((a, b) => b.size - a.size || a.name.localeCompare(b.name));
  for (const entry of bySize) {
    const lightest = groups.reduce((min, group) => (group.bytes < min.bytes ? group : min));
    lightest.bytes += entry.size;
    lightest.entries.push(entry);
  }
  return (groups[part - 1]?.entries ?? []).sort((a, b) => a.name.localeCompare(b.name));
}

/** Registers the corpus tests of part `part` (1-based) of {@link CORPUS_PARTS}. */
export function corpusPart(part: number): void {
  void describe(`corpus (part ${part} of ${CORPUS_PARTS})`, async () => {
    await registerCorpusTests(part);
  });
}

async function registerCorpusTests(part: number): Promise<void> {
  let pool: ThreadPool;
  let formats: Formats;
  const entries = hasCorpus() ? partOf(await readManifest(), part, CORPUS_PARTS) : [];
  const withPdftotext = hasCommand('pdftotext');

  before(() => {
    // 2048 MB heaps: pdf.js then needs about a fifth less CPU than under the 512 MB default
    // (docs/benchmarks.md). Memory caps are tested elsewhere; here only the text counts.
    pool = createThreadPool({ threads: 2, maxMemoryMb: 2048 });
    formats = createFormats(pool);
  });
  after(() => pool?.destroy());

  void test('the shared corpus is there, and a test file runs each part', async (t) => {
    const files = (await readdir(fileURLToPath(new URL('.', import.meta.url)))).filter((name) => /^corpus-\d+\.test\.ts$/.test(name));
    assert.deepEqual(files.sort(), Array.from({ length: CORPUS_PARTS }, (_, i) => `corpus-${i + 1}.test.ts`), 'no part left without its file');
    if (!requireCorpus(t)) return;
    assert.ok(entries.length > 0);
    // The fidelity bar covers enough documents, and each of PDFium's exceptions is one of them.
    const held = (await readManifest()).filter(heldToBar);
    assert.ok(held.length >= 40, `${held.length} documents with a text layer`);
    for (const name of Object.keys(PDFIUM_WORD_BREAK_EXCEPTIONS)) assert.ok(held.some((entry) => entry.name === name), `${name} is an ok text PDF of the corpus`);
  });

  for (const entry of entries) {
    // A 500-page manual takes minutes on a busy machine: more than the suite's default 5 min per test.
    void test(`${entry.name} (${entry.status}${entry.tags.length ? `; ${entry.tags.join(',')}` : ''})`, { timeout: 900_000 }, async (t) => {
      const outcome = await read(formats, entry).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      if (!outcome.ok) {
        const { error } = outcome;
        if (!(error instanceof ReamError)) throw error;
        const said = `${error.code}: ${error.message}`;
        if (entry.status === 'non-pdf') return assert.equal(error.code, 'unsupported_type', said);
        // A broken xref is what pdf.js's repair is for: such a file must be read.
        assert.ok(entry.status !== 'ok' && !entry.tags.includes('broken-xref'), `expected success, got ${said}`);
        assert.equal(error.code, entry.status === 'encrypted' ? 'encrypted_pdf' : 'invalid_pdf', said);
        return;
      }
      const { inspection, extraction, text } = outcome.value;
      if (entry.status === 'non-pdf') {
        // A table is read, its data rows as pages; what the rows hold is sheet-csv.test.ts's business.
        assert.ok(entry.tags.includes('csv'), `${entry.name} is no PDF, yet was read as ${inspection.mediaType}`);
        assert.equal(inspection.mediaType, CSV_MEDIA_TYPE);
        assert.equal(extraction.pages.length + extraction.failures.length, inspection.pageCount, 'every row accounted for');
        return;
      }
      if (entry.pages !== null) assert.equal(inspection.pageCount, entry.pages, 'page count as pdfinfo says');
      assert.equal(extraction.pages.length + extraction.failures.length, inspection.pageCount, 'every page accounted for');
      if (entry.status === 'ok') {
        assert.deepEqual(extraction.failures, [], 'no page failures on a sound file');
        assert.deepEqual(extraction.pages.map((p) => p.page), Array.from({ length: inspection.pageCount }, (_, i) => i + 1));
      }

      await t.test('text agrees with pdftotext', async (st) => {
        if (!requireOrSkip(st, withPdftotext, 'pdftotext (poppler-utils)')) return;
        const reference = await pdftotext(entry.path).catch(() => undefined);
        // Not a skip (CI allows none): there is simply no reference for a file poppler cannot open.
        if (reference === undefined) {
          assert.ok(!heldToBar(entry), 'pdftotext reads every ok PDF with a text layer');
          return st.diagnostic('pdftotext cannot read this file: nothing to compare with');
        }
        if (entry.tags.some((tag) => NO_TEXT_LAYER.includes(tag))) {
          // pdftotext has (next to) nothing for these: it reads text layers only. We read the
          // pages by OCR (ocr: auto, the default; ocr-corpus.test.ts checks that text against the
          // tesseract CLI): read here with `never`, every page must be one OCR would read.
          assert.ok(nonSpaceCount(reference) <= 20, 'pdftotext finds no text layer');
          assert.deepEqual(
            extraction.warnings.filter((w) => w.code === 'needs_ocr').map((w) => w.page),
            extraction.pages.map((p) => p.page),
            'every image page is one OCR would read (needs_ocr)',
          );
          return;
        }
        // What we read of an "encrypted" file (owner password only) pdftotext reads too, alike.
        const letters = letterF1(text, reference);
        const words = wordF1(text, reference);
        st.diagnostic(`letter F1 ${letters.toFixed(3)}, word F1 ${words.toFixed(3)}, non-space ${nonSpaceCount(text)} vs ${nonSpaceCount(reference)}`);
        assert.ok(letters >= MIN_LETTER_F1, `letter F1 vs pdftotext ${letters.toFixed(3)} < ${MIN_LETTER_F1}`);
        // Layouts where PDFium breaks words otherwise, every letter kept (pdfium-layout-exceptions.ts).
        const wordBreaksDiffer = DEFAULT_PDF_ENGINE === 'pdfium' && Object.hasOwn(PDFIUM_WORD_BREAK_EXCEPTIONS, entry.name);
        if (!wordBreaksDiffer) assert.ok(words >= MIN_WORD_F1, `word F1 vs pdftotext ${words.toFixed(3)} < ${MIN_WORD_F1}`);
        if (heldToBar(entry)) {
          const f = fidelityOf(entry, text, reference);
          const said = `length ${f.length.toFixed(3)}, overlap ${f.overlap.toFixed(3)}, letters ${f.letters.toFixed(3)}`;
          if (!wordBreaksDiffer) assert.ok(meetsBar(f), `${DEFAULT_PDF_ENGINE} below the fidelity bar: ${said}`);
          else {
            assert.ok(!meetsBar(f), `now meets the fidelity bar (${said}): take it off pdfium-layout-exceptions.ts`);
            assert.ok(lettersKept(f), `every character is there: ${said}`);
          }
        }
        if (entry.tags.some((tag) => CJK.includes(tag))) {
          const ours = nonSpaceCount(text);
          const theirs = nonSpaceCount(reference);
          const diff = Math.abs(ours - theirs) / Math.max(1, theirs);
          assert.ok(diff <= MAX_CJK_COUNT_DIFF, `CJK non-space characters: ${ours} vs pdftotext ${theirs} (${(diff * 100).toFixed(1)}%)`);
        }
      });
    });
  }
}
