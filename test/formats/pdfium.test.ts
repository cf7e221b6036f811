// The PDFium engine behind the PDF format: the same pages, text and metadata as pdf.js; the
// password option on both engines; the options checked; and a thread whose WebAssembly memory
// passed the pool's cap retired after its task, while reading goes on.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import type { JsonObject } from '../../src/json.ts';
import { DEFAULT_PDF_ENGINE, parsePdfOptions } from '../../src/formats/pdf/pdf-options.ts';
import type { PdfEngine, ReadLimits } from '../../src/formats/types.ts';
import { createFormats } from '../../src/formats/registry.ts';
import { PipelineRegistry } from '../../src/pipeline/registry.ts';
import { createThreadPool } from '../../src/runtime/thread-pool.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { fixturesDir } from '../support/env.ts';
import { formatsFixture } from '../support/formats-fixture.ts';
import { pdfWithMetadata } from './pdf-builders.ts';

const limits: ReadLimits = { maxBytes: 50 * 2 ** 20, maxPages: 1_000 };
const ENGINES: readonly PdfEngine[] = ['pdfium', 'pdfjs'];
const encrypted = join(fixturesDir, 'encrypted-user-password.pdf');

void describe('PDFium engine', () => {
  const fixture = formatsFixture('ream-pdfium-', limits, 2);

  void test('PDFium is the default, and both engines give the same pages, text and metadata', async () => {
    assert.equal(DEFAULT_PDF_ENGINE, 'pdfium');
    const texts = ['First page\nsecond line', 'Zweite Seite: Grüße, café', 'Page three 3.14 €'];
    const path = await fixture.file('three.pdf', await pdfWithMetadata(texts));
    const format = await fixture.formats().identify(path, undefined, limits);
    const [pdfium, pdfjs] = await Promise.all(ENGINES.map(async (pdfEngine) => ({
      inspection: await format.inspect(path, limits, undefined, { pdfEngine }),
      extraction: await format.extract(path, { from: 0, to: 3 }, undefined, { pdfEngine }),
    })));
    assert.ok(pdfium && pdfjs);
    assert.equal(pdfium.inspection.pageCount, 3);
    assert.equal(pdfium.inspection.metadata.title, 'Quarterly report');
    assert.deepEqual(pdfium.inspection, pdfjs.inspection);
    assert.deepEqual(pdfium.extraction.pages.map((p) => p.text), texts);
    assert.deepEqual(pdfium.extraction, pdfjs.extraction);
    // Without options the default engine reads it, to the same result.
    assert.deepEqual(await format.extract(path, { from: 0, to: 3 }), pdfium.extraction);
  });

  for (const pdfEngine of ENGINES) {
    void test(`${pdfEngine}: the password opens an encrypted PDF; a wrong or missing one is encrypted_pdf`, async () => {
      const format = await fixture.formats().identify(encrypted, undefined, limits);
      const inspection = await format.inspect(encrypted, limits, undefined, { pdfEngine, pdfPassword: 'user-secret' });
      assert.equal(inspection.pageCount, 2);
      const { pages } = await format.extract(encrypted, { from: 0, to: 2 }, undefined, { pdfEngine, pdfPassword: 'user-secret' });
      assert.deepEqual(pages.map((p) => p.text), ['Secret page one', 'Secret page two']);
      const wrong = await rejectsWithCode(format.inspect(encrypted, limits, undefined, { pdfEngine, pdfPassword: 'guess' }), 'encrypted_pdf');
      assert.match(wrong.message, /password given does not open it/);
      assert.equal(wrong.retryable, false);
      await rejectsWithCode(format.inspect(encrypted, limits, undefined, { pdfEngine }), 'encrypted_pdf', /encrypted with a password/);
      await rejectsWithCode(format.extract(encrypted, { from: 0, to: 1 }, undefined, { pdfEngine, pdfPassword: 'guess' }), 'encrypted_pdf');
      // The job's password does not lock out a file that needs none (owner password only).
      const ownerOnly = join(fixturesDir, 'encrypted-owner-password-only.pdf');
      const opened = await format.inspect(ownerOnly, limits, undefined, { pdfEngine, pdfPassword: 'user-secret' });
      assert.ok(opened.pageCount >= 1);
      const read = await format.extract(ownerOnly, { from: 0, to: 1 }, undefined, { pdfEngine, pdfPassword: 'user-secret' });
      assert.deepEqual(read.failures, []);
    });
  }

  void test('the options are checked where every job option is: unknown engines and bad passwords are validation_failed', () => {
    const registry = new PipelineRegistry();
    assert.deepEqual(registry.build('extract', { pdfEngine: 'pdfjs', pdfPassword: 'pw' }).read?.pdfEngine, 'pdfjs');
    assert.equal(registry.build('extract', {}).read?.pdfEngine, undefined, 'absent stays absent: the reader applies the default');
    const bad: JsonObject[] = [{ pdfEngine: 'poppler' }, { pdfEngine: 1 }, { pdfPassword: '' }, { pdfPassword: 7 }, { pdfPassword: 'a\0b' }, { pdfPassword: 'x'.repeat(128) }];
    for (const options of bad) {
      assert.throws(() => registry.build('extract', options), (error: unknown) => error instanceof ReamError && error.code === 'validation_failed', JSON.stringify(options));
      assert.throws(() => parsePdfOptions(options));
    }
  });

  void test('a reader called directly checks the engine too', async () => {
    const path = await fixture.file('one.pdf', await pdfWithMetadata(['only page']));
    const format = await fixture.formats().identify(path, undefined, limits);
    await rejectsWithCode(format.extract(path, { from: 0, to: 1 }, undefined, { pdfEngine: 'mupdf' as PdfEngine }), 'validation_failed');
  });
});

void describe('what a thread loads', () => {
  void test('reading with PDFium never loads pdf.js in the thread; a pdf.js read does', async () => {
    const pool = createThreadPool({ threads: 1, handlerModules: [new URL('../fixtures/pool-tasks.ts', import.meta.url)] });
    const dir = await mkdtemp(join(tmpdir(), 'ream-lazy-pdfjs-'));
    try {
      const path = join(dir, 'two.pdf');
      await writeFile(path, await pdfWithMetadata(['page one', 'page two']));
      const format = await createFormats(pool).identify(path, undefined, limits);
      const loaded = async (): Promise<boolean> => (await pool.run<{ loaded: boolean }>('test.pdfjsLoaded', null)).loaded;
      await format.inspect(path, limits, undefined, { pdfEngine: 'pdfium' });
      const { pages } = await format.extract(path, { from: 0, to: 2 }, undefined, { pdfEngine: 'pdfium' });
      assert.deepEqual(pages.map((p) => p.text), ['page one', 'page two']);
      assert.equal(await loaded(), false, 'PDFium read the file alone');
      const again = await format.extract(path, { from: 1, to: 2 }, undefined, { pdfEngine: 'pdfjs' });
      assert.deepEqual(again.pages.map((p) => p.text), ['page two']);
      assert.equal(await loaded(), true, 'pdf.js loads on its first task');
    } finally {
      await pool.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

void describe('thread retirement', () => {
  void test('a thread whose WebAssembly memory passed the cap is ended after its task; a fresh one reads on', async () => {
    // PDFium's memory starts at ~16 MB, so a 1 MB cap retires the thread after every PDF task.
    const pool = createThreadPool({ threads: 1, retireAboveMb: 1, handlerModules: [new URL('../fixtures/pool-tasks.ts', import.meta.url)] });
    const dir = await mkdtemp(join(tmpdir(), 'ream-retire-'));
    try {
      const path = join(dir, 'two.pdf');
      await writeFile(path, await pdfWithMetadata(['page one', 'page two']));
      const formats = createFormats(pool);
      const format = await formats.identify(path, undefined, limits);
      const echo = async (): Promise<number> => (await pool.run<{ threadId: number }>('test.echo', null)).threadId;
      const first = await echo();
      assert.equal(await echo(), first, 'a task without WebAssembly keeps its thread');
      const { pages } = await format.extract(path, { from: 0, to: 2 });
      assert.deepEqual(pages.map((p) => p.text), ['page one', 'page two']);
      assert.equal(pool.retiredThreads, 1);
      const second = await echo();
      assert.notEqual(second, first, 'the retired thread was replaced');
      const again = await format.extract(path, { from: 1, to: 2 });
      assert.deepEqual(again.pages.map((p) => p.text), ['page two']);
      assert.equal(pool.retiredThreads, 2);
    } finally {
      await pool.destroy();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
