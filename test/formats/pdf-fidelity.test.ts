// Fidelity of both PDF engines to poppler's pdftotext over every `ok` PDF of the shared corpus
// that has a text layer: per document, the non-space text length within 10% of pdftotext's and
// the word overlap (multiset F1 of words; of characters for CJK, which has no spaces between
// words) at least 0.90. The default engine is held to it (the documents of
// pdfium-layout-exceptions.ts to their characters only). REAM_FIDELITY_TABLE=<file> measures
// the other engine alongside and writes both as a Markdown table for docs/benchmarks.md (it
// doubles the time: pdf.js needs about 2.5× PDFium's CPU). Skips, saying so, without the corpus or pdftotext (fails under CI).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { DEFAULT_OCR } from '../../src/formats/ocr/ocr-options.ts';
import { DEFAULT_PDF_ENGINE, PDF_ENGINES } from '../../src/formats/pdf/pdf-options.ts';
import { createFormats, type Formats } from '../../src/formats/registry.ts';
import type { PdfEngine, ReadLimits } from '../../src/formats/types.ts';
import { DEFAULT_CHUNK_PAGES } from '../../src/pipeline/builtin.ts';
import { planChunks } from '../../src/pipeline/chunk-planner.ts';
import { createThreadPool, type ThreadPool } from '../../src/runtime/thread-pool.ts';
import { hasCommand, hasCorpus, readManifest, requireOrSkip, type CorpusEntry } from '../support/env.ts';
import { PDFIUM_WORD_BREAK_EXCEPTIONS } from './pdfium-layout-exceptions.ts';
import { letterF1, nonSpaceCount, wordF1 } from './text-similarity.ts';

const run = promisify(execFile);
const limits: ReadLimits = { maxBytes: 200 * 2 ** 20, maxPages: 10_000 };
const MAX_LENGTH_DIFF = 0.1;
const MIN_OVERLAP = 0.9;
const NO_TEXT_LAYER = ['needs-ocr', 'image-only', 'scanned', 'no-text'];
const CJK = ['cjk', 'ja', 'ko', 'zh', 'zh_CN'];
const NO_OCR = { ...DEFAULT_OCR, mode: 'never' as const };

export interface Fidelity {
  name: string;
  /** Non-space characters, ours ÷ pdftotext's. */
  length: number;
  /** Word F1 (character F1 for CJK). */
  overlap: number;
  /** Letter and digit F1, whatever the script. */
  letters: number;
  cjk: boolean;
}

const meets = (f: Fidelity): boolean => Math.abs(f.length - 1) <= MAX_LENGTH_DIFF && f.overlap >= MIN_OVERLAP;

async function readAll(formats: Formats, entry: CorpusEntry, pdfEngine: PdfEngine): Promise<string> {
  const format = await formats.identify(entry.path, entry.name, limits);
  const { pageCount } = await format.inspect(entry.path, limits, undefined, { pdfEngine });
  const chunks = await Promise.all(planChunks(pageCount, DEFAULT_CHUNK_PAGES).map((c) => format.extract(entry.path, c, undefined, { pdfEngine, ocr: NO_OCR })));
  return chunks.flatMap((c) => c.pages.map((p) => p.text)).join('\n');
}

function compare(entry: CorpusEntry, ours: string, reference: string): Fidelity {
  const cjk = entry.tags.some((tag) => CJK.includes(tag));
  const theirs = nonSpaceCount(reference);
  return {
    name: entry.name,
    length: theirs === 0 ? (nonSpaceCount(ours) === 0 ? 1 : Infinity) : nonSpaceCount(ours) / theirs,
    overlap: cjk ? letterF1(ours, reference) : wordF1(ours, reference),
    letters: letterF1(ours, reference),
    cjk,
  };
}

function table(results: ReadonlyMap<PdfEngine, Fidelity[]>, engines: readonly PdfEngine[]): string {
  const [first = []] = results.values();
  const lines = [
    `| document | ${engines.map((e) => `${e} length ÷ pdftotext | ${e} overlap`).join(' | ')} |`,
    `|---|${engines.map(() => '---:|---:').join('|')}|`,
  ];
  for (const [i, row] of first.entries()) {
    const cells = engines.map((engine) => {
      const f = results.get(engine)?.[i];
      if (!f) return 'n/a | n/a';
      const mark = meets(f) ? '' : ' ✗';
      return `${f.length.toFixed(3)} | ${f.overlap.toFixed(3)}${f.cjk ? ' (chars)' : ''}${mark}`;
    });
    lines.push(`| ${row.name} | ${cells.join(' | ')} |`);
  }
  for (const engine of engines) {
    const rows = results.get(engine) ?? [];
    lines.push('', `${engine}: ${rows.filter(meets).length} of ${rows.length} documents meet both bars.`);
  }
  return lines.join('\n');
}

let pool: ThreadPool | undefined;
before(() => {
  pool = createThreadPool({ threads: 2 });
});
after(() => pool?.destroy());

void test('every PDF with a text layer reads within 10% of pdftotext\'s length and ≥ 0.90 word overlap (default engine)', { timeout: 300_000 }, async (t) => {
  if (!requireOrSkip(t, hasCorpus(), 'the shared corpus') || !requireOrSkip(t, hasCommand('pdftotext'), 'pdftotext (poppler-utils)')) return;
  assert.ok(pool);
  const formats = createFormats(pool);
  const entries = (await readManifest()).filter((e) => e.status === 'ok' && e.name.endsWith('.pdf') && !e.tags.some((tag) => NO_TEXT_LAYER.includes(tag)));
  assert.ok(entries.length >= 40, `${entries.length} documents with a text layer`);
  // pdftotext in child processes while the pool reads: two at a time, like the pool's threads.
  const references = new Map<string, string>();
  const queue = [...entries];
  const poppler = Promise.all([0, 1].map(async () => {
    for (let entry = queue.shift(); entry; entry = queue.shift()) {
      const { stdout } = await run('pdftotext', ['-q', '-enc', 'UTF-8', entry.path, '-'], { maxBuffer: 256 * 2 ** 20 });
      references.set(entry.name, stdout);
    }
  }));
  // Two documents at a time, so that both threads work while most documents are one chunk.
  const tableFile = process.env.REAM_FIDELITY_TABLE;
  const engines = tableFile ? PDF_ENGINES : [DEFAULT_PDF_ENGINE];
  const texts = new Map<PdfEngine, Map<string, string>>();
  for (const engine of engines) {
    const read = new Map<string, string>();
    const pending = [...entries];
    await Promise.all([0, 1].map(async () => {
      for (let entry = pending.shift(); entry; entry = pending.shift()) read.set(entry.name, await readAll(formats, entry, engine));
    }));
    texts.set(engine, read);
  }
  await poppler;
  const results = new Map<PdfEngine, Fidelity[]>();
  for (const engine of engines) {
    results.set(engine, entries.map((entry) => compare(entry, texts.get(engine)?.get(entry.name) ?? '', references.get(entry.name) ?? '')));
  }
  const markdown = table(results, engines);
  t.diagnostic(markdown);
  if (tableFile) await writeFile(tableFile, `${markdown}\n`);
  const ours = results.get(DEFAULT_PDF_ENGINE) ?? [];
  const exceptions = DEFAULT_PDF_ENGINE === 'pdfium' ? PDFIUM_WORD_BREAK_EXCEPTIONS : {};
  const below = ours.filter((f) => !meets(f) && !Object.hasOwn(exceptions, f.name));
  assert.deepEqual(below.map((f) => `${f.name}: length ${f.length.toFixed(3)}, overlap ${f.overlap.toFixed(3)}`), [], `${DEFAULT_PDF_ENGINE} below the bar`);
  for (const name of Object.keys(exceptions)) {
    const f = ours.find((row) => row.name === name);
    assert.ok(f, `${name} is in the corpus`);
    assert.ok(!meets(f), `${name} now meets the bar: take it off pdfium-layout-exceptions.ts`);
    assert.ok(Math.abs(f.length - 1) <= MAX_LENGTH_DIFF && f.letters >= 0.98, `${name}: every character is there (length ${f.length.toFixed(3)}, letters ${f.letters.toFixed(3)})`);
  }
});
