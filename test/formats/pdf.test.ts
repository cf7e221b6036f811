import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createFormats, type Formats } from '../../src/formats/registry.ts';
import type { DocumentFormat, ReadLimits } from '../../src/formats/types.ts';
import { createThreadPool, type ThreadPool } from '../../src/runtime/thread-pool.ts';
import { fixturesDir } from '../support/env.ts';
import { makePdf } from '../support/make-pdf.ts';
import { PNG_1X1, numberedPages, pdfWithBrokenPages, pdfWithMetadata } from './pdf-builders.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';

const limits: ReadLimits = { maxBytes: 50 * 2 ** 20, maxPages: 1_000 };

const failsWith = rejectsWithCode;

void describe('PDF format', () => {
  let pool: ThreadPool;
  let formats: Formats;
  let dir: string;
  let n = 0;
  const file = async (bytes: Uint8Array | string, name = `f${n++}.pdf`): Promise<string> => {
    const path = join(dir, name);
    await writeFile(path, bytes);
    return path;
  };
  /** identify → inspect, as the engine does. */
  const open = async (path: string, name?: string, readLimits = limits): Promise<DocumentFormat> => {
    const format = await formats.identify(path, name, readLimits);
    await format.inspect(path, readLimits);
    return format;
  };

  before(async () => {
    pool = createThreadPool({ threads: 2 });
    formats = createFormats(pool);
    dir = await mkdtemp(join(tmpdir(), 'ream-pdf-'));
  });
  after(async () => {
    await pool.destroy();
    await rm(dir, { recursive: true, force: true });
  });

  void test('inspect reads page count and every metadata field; extract gives each page its exact text', async () => {
    const pages = ['First page\nsecond line', 'Zweite Seite: Grüße, café', 'Page three 3.14 €'];
    const path = await file(await pdfWithMetadata(pages));
    const format = await formats.identify(path, 'report.pdf', limits);
    assert.equal(format.mediaType, 'application/pdf');
    const inspection = await format.inspect(path, limits);
    assert.deepEqual(inspection, {
      mediaType: 'application/pdf',
      pageCount: 3,
      metadata: {
        title: 'Quarterly report',
        author: 'Ada Lovelace',
        subject: 'Numbers, mostly',
        keywords: 'finance q3',
        creator: 'ream test suite',
        producer: 'pdf-lib',
        createdAt: '2024-05-06T07:08:09Z',
        modifiedAt: '2024-06-07T08:09:10Z',
        formatVersion: '1.7',
      },
    });
    const extraction = await format.extract(path, { from: 0, to: 3 });
    assert.deepEqual(extraction, { pages: pages.map((text, i) => ({ page: i + 1, text, source: 'text' })), failures: [] });
  });

  void test('extract reads exactly the range asked for, in chunks spread over both threads', async () => {
    const path = await file(await makePdf({ pages: numberedPages('A', 40), title: 'Forty' }));
    const format = await open(path);
    const chunks = await Promise.all([0, 10, 20, 30].map((from) => format.extract(path, { from, to: from + 10 })));
    const got = chunks.flatMap((c) => c.pages);
    assert.equal(got.length, 40);
    got.forEach((page, i) => assert.deepEqual(page, { page: i + 1, text: `A page ${i + 1} of 40\nInvoice number INV-A-${i + 1}`, source: 'text' }));
    assert.deepEqual((await format.extract(path, { from: 5, to: 5 })).pages, []);
  });

  void test('bad inputs end with their code', async () => {
    const real = await makePdf({ pages: numberedPages('T', 30) });
    await failsWith(open(await file(new Uint8Array(0))), 'empty_file');
    await failsWith(open(await file('Just some notes, saved with the wrong name.\n')), 'invalid_pdf', /named \.pdf but does not start with %PDF-/);
    // The content decides: a PNG named .pdf is read as the image it is; a GIF ream cannot read.
    assert.equal((await open(await file(PNG_1X1))).mediaType, 'image/png');
    await failsWith(open(await file(Buffer.from('GIF89a\x01\x00\x01\x00', 'latin1'))), 'unsupported_type', /GIF image/);
    await failsWith(open(await file(real.subarray(0, Math.floor(real.length * 0.3)))), 'invalid_pdf');
    await failsWith(open(await file('%PDF-1.7\nthis is not a PDF body at all\n%%EOF\n')), 'invalid_pdf');
    await failsWith(open(await file(real), undefined, { maxBytes: 1_000, maxPages: 100 }), 'file_too_large');
    await failsWith(open(await file(real), undefined, { maxBytes: limits.maxBytes, maxPages: 29 }), 'too_many_pages', /30 pages; the limit is 29 pages/);
  });

  void test('a PDF that needs a user password is encrypted_pdf, not retryable', async () => {
    const error = await failsWith(open(join(fixturesDir, 'encrypted-user-password.pdf')), 'encrypted_pdf');
    assert.equal(error.retryable, false);
  });

  void test('a PDF with only an owner password (copying "forbidden") opens, as pdftotext opens it', async () => {
    const path = join(fixturesDir, 'encrypted-owner-password-only.pdf');
    const format = await open(path);
    const { pages } = await format.extract(path, { from: 0, to: 2 });
    assert.deepEqual(pages.map((p) => p.text), ['Secret page one', 'Secret page two']);
  });

  void test('a page that cannot be read is a page failure; the others still come out', async () => {
    const path = await file(await pdfWithBrokenPages(4, [2]));
    const format = await open(path);
    const { pages, failures } = await format.extract(path, { from: 0, to: 4 });
    assert.deepEqual(pages.map((p) => p.page), [1, 3, 4]);
    assert.equal(pages[1]?.text, 'B page 3 of 4\nInvoice number INV-B-3');
    assert.equal(failures.length, 1);
    assert.equal(failures[0]?.page, 2);
    assert.equal(failures[0]?.code, 'invalid_pdf');
    assert.ok(failures[0]?.message);
  });

  void test('a range where every page fails is invalid_pdf as a whole', async () => {
    const path = await file(await pdfWithBrokenPages(4, [2, 3]));
    const format = await open(path);
    await failsWith(format.extract(path, { from: 1, to: 3 }), 'invalid_pdf', /no page of 2–3 could be read/);
    const mixed = await format.extract(path, { from: 0, to: 3 });
    assert.deepEqual(mixed.failures.map((f) => f.page), [2, 3]);
  });

  void test('an unreadable first page does not condemn the document', async () => {
    const path = await file(await pdfWithBrokenPages(3, [1]));
    const format = await formats.identify(path, undefined, limits);
    assert.equal((await format.inspect(path, limits)).pageCount, 3);
    const { pages, failures } = await format.extract(path, { from: 0, to: 3 });
    assert.deepEqual([pages.map((p) => p.page), failures.map((f) => f.page)], [[2, 3], [1]]);
  });

  void test('an aborted signal cancels', async () => {
    const path = await file(await makePdf({ pages: ['x'] }));
    const format = await open(path);
    await failsWith(format.extract(path, { from: 0, to: 1 }, AbortSignal.abort()), 'cancelled');
    await failsWith(format.inspect(path, limits, AbortSignal.abort()), 'cancelled');
  });
});
