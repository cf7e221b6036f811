// PageCounter: pages of stored documents counted as a job's inspection counts them (real readers
// over a real thread pool, real blob files), cached per content hash and read options, within a
// time budget after which the rest are answered uncounted.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { BlobFiles } from '../../src/blobs/local-copy.ts';
import { FsBlobStore } from '../../src/blobs/fs-blob-store.ts';
import { DEFAULT_LIMITS } from '../../src/pipeline/builtin.ts';
import { PipelineRegistry } from '../../src/pipeline/registry.ts';
import { PageCounter } from '../../src/runtime/page-counts.ts';
import type { JsonObject } from '../../src/json.ts';
import type { DocumentRecord } from '../../src/store/port.ts';
import { formatsFixture } from '../support/formats-fixture.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';

const fixture = formatsFixture('ream-page-counts-', DEFAULT_LIMITS);
const pipelines = new PipelineRegistry();

function setUp(settings: ConstructorParameters<typeof PageCounter>[1] = {}) {
  const blobs = new FsBlobStore(`${fixture.dir()}/blobs-${Math.random().toString(36).slice(2)}`);
  const files = new BlobFiles(blobs, { dir: `${fixture.dir()}/copies` });
  const counter = new PageCounter({ formats: fixture.formats(), blobFiles: () => files }, settings);
  let next = 0;
  const store = async (name: string, bytes: Uint8Array | string): Promise<DocumentRecord> => {
    const blob = await blobs.put(Readable.from([typeof bytes === 'string' ? Buffer.from(bytes) : bytes]));
    return { id: `doc-${++next}`, tenantId: 't', sha256: blob.sha256, name, size: blob.size, mediaType: 'application/octet-stream', createdAt: Date.now() };
  };
  return { counter, store };
}

test('counts PDF pages and a table\'s rows or sheets as the pipeline reads them; cached per content and read options', async () => {
  const { counter, store } = setUp();
  // The same bytes twice (a made PDF carries its creation time: two makes may differ).
  const six = await makePdf({ pages: numberedPages('P', 6) });
  const pdf = await store('six.pdf', six);
  const copy = await store('copy-of-six.pdf', six);
  const csv = await store('t.csv', 'a,b\n' + Array.from({ length: 40 }, (_, i) => `${i},x`).join('\n') + '\n');
  const extract = pipelines.build('extract', {});
  const rows = pipelines.build('rows', {});

  assert.deepEqual(counter.known([pdf], extract), new Map(), 'nothing known before a count');
  const counted = await counter.count([pdf, csv], extract);
  // A Map compares without order: the two are read at once, and either may end first.
  assert.deepEqual(counted.counted, new Map([[pdf.id, 6], [csv.id, 1]]));
  assert.equal(counted.rows, 0, 'a document pipeline reads a table as sheets, not rows');
  assert.deepEqual((await counter.count([csv], rows)).counted.get(csv.id), 40);
  assert.equal((await counter.count([csv], rows)).rows, 40);
  // The same bytes under another document: known from the cache, without reading.
  assert.deepEqual([...counter.known([copy, csv], extract)], [[copy.id, 6], [csv.id, 1]]);
  assert.equal(counter.reservedPages([copy, csv, await store('new.txt', 'never counted')], extract), 6 + 1 + 1);
});

test('a broken file is not counted, with its code; past the budget the rest are timeout; the cache stays small', async () => {
  const { counter, store } = setUp({ cacheSize: 2 });
  const broken = await store('broken.pdf', '%PDF-1.7\nnot a body\n%%EOF\n');
  const docs = [broken, ...(await Promise.all([1, 2, 3].map(async (n) => store(`${n}.pdf`, await makePdf({ pages: numberedPages(`N${n}`, n) })))))];
  const extract = pipelines.build('extract', {});
  const result = await counter.count(docs, extract);
  assert.equal(result.notCounted.length, 1);
  assert.equal(result.notCounted[0]?.documentId, broken.id);
  assert.ok(!['internal', 'timeout'].includes(result.notCounted[0]?.code ?? 'internal'), `a reader's code: ${result.notCounted[0]?.code}`);
  assert.equal(counter.known(docs, extract).size, 2, 'at most cacheSize counts kept');

  const { counter: hurried, store: storeHurried } = setUp({ budgetMs: 1 });
  const late = await Promise.all([4, 5].map(async (n) => storeHurried(`${n}.pdf`, await makePdf({ pages: numberedPages(`L${n}`, n) }))));
  const timedOut = await hurried.count(late, extract);
  assert.equal(timedOut.counted.size + timedOut.notCounted.length, 2);
  assert.ok(timedOut.notCounted.length >= 1 && timedOut.notCounted.every((item) => item.code === 'timeout'), JSON.stringify(timedOut.notCounted));
});

test('an encrypted PDF counted with its password is still refused without it, or with a wrong one (the cache is per password)', async () => {
  const { counter, store } = setUp({ budgetMs: 60_000 }); // no timeout on a loaded machine: this is about the answers
  const locked = await store('locked.pdf', await readFile(new URL('../fixtures/encrypted-user-password.pdf', import.meta.url)));
  const opened = await counter.count([locked], pipelines.build('extract', { pdfPassword: 'user-secret' }));
  assert.equal(opened.counted.get(locked.id), 2);
  for (const options of [{}, { pdfPassword: 'wrong-secret' }] as JsonObject[]) {
    const refused = await counter.count([locked], pipelines.build('extract', options));
    assert.deepEqual(refused.notCounted.map((d) => d.code), ['encrypted_pdf'], JSON.stringify(options));
    assert.deepEqual(counter.known([locked], pipelines.build('extract', options)), new Map(), 'nothing known for that password');
  }
  assert.equal(counter.known([locked], pipelines.build('extract', { pdfPassword: 'user-secret' })).get(locked.id), 2);
});
