// Fidelity of both PDF engines to poppler's pdftotext over every `ok` PDF of the shared corpus
// that has a text layer (the bar of fidelity-bar.ts), as a Markdown table for docs/benchmarks.md:
// `REAM_FIDELITY_TABLE=<file> node --test test/formats/pdf-fidelity-table.ts` (bench/pdf-extract.ts
// runs it). No part of `npm test`: the corpus parts (corpus-part.ts) already read every such PDF
// with the default engine and hold it to the bar; this reads them all again, with pdf.js too
// (about 2.5× PDFium's CPU). Without REAM_FIDELITY_TABLE it measures the default engine only.
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
import { fidelityOf, heldToBar, lettersKept, meetsBar, type Fidelity } from './fidelity-bar.ts';

const run = promisify(execFile);
const limits: ReadLimits = { maxBytes: 200 * 2 ** 20, maxPages: 10_000 };
const NO_OCR = { ...DEFAULT_OCR, mode: 'never' as const };

async function readAll(formats: Formats, entry: CorpusEntry, pdfEngine: PdfEngine): Promise<string> {
  const format = await formats.identify(entry.path, entry.name, limits);
  const { pageCount } = await format.inspect(entry.path, limits, undefined, { pdfEngine });
  const chunks = await Promise.all(planChunks(pageCount, DEFAULT_CHUNK_PAGES).map((c) => format.extract(entry.path, c, undefined, { pdfEngine, ocr: NO_OCR })));
  return chunks.flatMap((c) => c.pages.map((p) => p.text)).join('\n');
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
      const mark = meetsBar(f) ? '' : ' ✗';
      return `${f.length.toFixed(3)} | ${f.overlap.toFixed(3)}${f.cjk ? ' (chars)' : ''}${mark}`;
    });
    lines.push(`| ${row.name} | ${cells.join(' | ')} |`);
  }
  for (const engine of engines) {
    const rows = results.get(engine) ?? [];
    lines.push('', `${engine}: ${rows.filter(meetsBar).length} of ${rows.length} documents meet both bars.`);
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
  const entries = (await readManifest()).filter(heldToBar);
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
    results.set(engine, entries.map((entry) => fidelityOf(entry, texts.get(engine)?.get(entry.name) ?? '', references.get(entry.name) ?? '')));
  }
  const markdown = table(results, engines);
  t.diagnostic(markdown);
  if (tableFile) await writeFile(tableFile, `${markdown}\n`);
  const ours = results.get(DEFAULT_PDF_ENGINE) ?? [];
  const exceptions = DEFAULT_PDF_ENGINE === 'pdfium' ? PDFIUM_WORD_BREAK_EXCEPTIONS : {};
  const below = ours.filter((f) => !meetsBar(f) && !Object.hasOwn(exceptions, f.name));
  assert.deepEqual(below.map((f) => `${f.name}: length ${f.length.toFixed(3)}, overlap ${f.overlap.toFixed(3)}`), [], `${DEFAULT_PDF_ENGINE} below the bar`);
  for (const name of Object.keys(exceptions)) {
    const f = ours.find((row) => row.name === name);
    assert.ok(f, `${name} is in the corpus`);
    assert.ok(!meetsBar(f), `${name} now meets the bar: take it off pdfium-layout-exceptions.ts`);
    assert.ok(lettersKept(f), `${name}: every character is there (length ${f.length.toFixed(3)}, letters ${f.letters.toFixed(3)})`);
  }
});
