// OCR through the library, as a user submits a job: scans come back read (source "ocr"), or,
// with ocr: "never", as a partial success with needs_ocr warnings — never a plain "succeeded"
// with empty pages. Options are checked at submit like every other job option.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DocumentOutput } from '../../src/pipeline/types.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { hasCommand, requireOrSkip } from '../support/env.ts';
import { makePdf, makeScannedPdf } from '../support/make-pdf.ts';
import { OCR_TEST_ENGINES } from '../formats/ocr-engines.ts';

void describe('OCR jobs', () => {
  let dir: string;
  let ream: Ream;
  let scan: string;
  let text: string;

  const only = async (jobId: string): Promise<DocumentOutput> => {
    const outputs: DocumentOutput[] = [];
    for await (const output of ream.results(jobId)) outputs.push(output);
    assert.equal(outputs.length, 1);
    return outputs[0] as DocumentOutput;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ream-ocr-job-'));
    scan = join(dir, 'scan.pdf');
    await writeFile(scan, await makeScannedPdf([['Quarterly report of the harbour office']]));
    text = join(dir, 'text.pdf');
    await writeFile(text, await makePdf({ pages: ['Plain text page'] }));
    ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  });
  after(async () => {
    await ream?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const engine of OCR_TEST_ENGINES) {
    void test(`a scan is read by OCR by default, and indexed for search (${engine})`, async (t) => {
      if (engine === 'tesseract' && !requireOrSkip(t, hasCommand('tesseract'), 'the tesseract CLI (apt-get install tesseract-ocr)')) return;
      const job = await ream.submit({ files: [scan], options: { ocrEngine: engine } });
      assert.equal((await ream.wait(job.id)).status, 'succeeded');
      const output = await only(job.id);
      assert.equal(output.status, 'succeeded');
      assert.equal(output.warnings, undefined);
      const [page] = output.pages;
      assert.equal(page?.source, 'ocr');
      assert.equal(page?.ocrEngine, engine);
      assert.match(page?.text ?? '', /harbour office/i);
      const hits = await ream.search('harbour');
      assert.ok(hits.some((hit) => hit.documentId === output.documentId), 'OCR text is searchable');
    });
  }

  void test('progress moves while a chunk of scans is OCR\'d, before the chunk ends, and never runs backwards', async () => {
    // Eight scans in one chunk, on one thread: a few seconds of OCR, past the 2 s after which a
    // running chunk's pages read count (src/runtime/chunk-progress.ts).
    const scans = join(dir, 'eight-scans.pdf');
    await writeFile(scans, await makeScannedPdf(Array.from({ length: 8 }, (_, i) => [`Ledger page number ${i + 1}`])));
    const job = await ream.submit({ files: [scans] });
    assert.equal((await ream.wait(job.id)).status, 'succeeded');
    const events = await ream.listEvents(job.id, 0, 1_000);
    const chunkEnd = events.find((event) => event.type === 'chunk.completed');
    assert.ok(chunkEnd, 'the chunk ended');
    const started = events.find((event) => event.type === 'job.started') ?? events[0];
    assert.ok(chunkEnd.at - (started?.at ?? chunkEnd.at) >= 3_000, `the OCR took ${chunkEnd.at - (started?.at ?? 0)} ms: too fast for this test to say anything`);
    const within = events.filter((event) => event.seq < chunkEnd.seq && event.progress.pagesDone > 0);
    assert.ok(within.length > 0, 'a progress event before the chunk ended counted pages read');
    assert.ok(within.every((event) => event.progress.pagesDone < 8), 'the chunk\'s pages were not all counted before it ended');
    const done = events.map((event) => event.progress.pagesDone);
    assert.deepEqual(done, [...done].sort((a, b) => a - b), `pagesDone never decreases: ${done.join(' ')}`);
    assert.equal(events.at(-1)?.progress.pagesDone, 8);
  });

  void test('ocr: "never" ends a scan partially_succeeded with a needs_ocr warning per page', async () => {
    const job = await ream.submit({ files: [scan], options: { ocr: 'never' } });
    assert.equal((await ream.wait(job.id)).status, 'partially_succeeded');
    const output = await only(job.id);
    assert.equal(output.status, 'partially_succeeded');
    assert.deepEqual(output.warnings?.map((w) => [w.page, w.code]), [[1, 'needs_ocr']]);
    assert.deepEqual(output.failedPages, []);
    assert.deepEqual(output.pages.map((p) => [p.page, p.text]), [[1, '']]);
  });

  void test('a text PDF is not OCR\'d and succeeds as before, whatever the OCR options', async () => {
    const job = await ream.submit({ files: [text], options: { ocr: 'never', ocrLanguages: ['eng', 'deu'], ocrDpi: 150 } });
    assert.equal((await ream.wait(job.id)).status, 'succeeded');
    assert.deepEqual((await only(job.id)).pages, [{ page: 1, text: 'Plain text page', source: 'text' }]);
  });

  void test('bad OCR options are refused at submit, before any file is stored', async () => {
    await rejectsWithCode(ream.submit({ files: [text], options: { ocr: 'maybe' } }), 'validation_failed', /"ocr" must be one of/);
    await rejectsWithCode(ream.submit({ files: [text], options: { ocrLanguages: ['xyz'] } }), 'validation_failed', /@tesseract\.js-data\/xyz/);
    // 50,000 times `eng` is one language, but the job keeps and shows its options as given.
    await rejectsWithCode(ream.submit({ files: [text], options: { ocrLanguages: Array.from({ length: 50_000 }, () => 'eng') } }), 'validation_failed', /at most 16 languages, got 50000/);
    await rejectsWithCode(ream.submit({ files: [text], options: { ocrDPI: 300 } }), 'validation_failed', /unknown option "ocrDPI"/);
    await rejectsWithCode(ream.submit({ files: [text], options: { ocrEngine: 'cuneiform' } }), 'validation_failed', /ocrEngine/);
  });
});
