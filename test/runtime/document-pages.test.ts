// A long table's result leaves its rows in their checkpoints (`pagesOmitted`) and they are read
// back row by row (`documentPages`), in order, with their fields and failures; the search index
// gets them chunk by chunk. A short table keeps its rows in the result, and both ways agree.
import assert, { rejects } from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import { fromJson } from '../../src/json.ts';
import { MAX_ROWS_IN_RESULT } from '../../src/pipeline/rows-pipeline.ts';
import type { DocumentOutput } from '../../src/pipeline/types.ts';
import { ReamClient } from '../../src/client/index.ts';
import { createReam } from '../../src/runtime/create-ream.ts';
import { startServer } from '../../src/server/app.ts';
import type { DocumentPageResult, Ream } from '../../src/runtime/ream.ts';
import { INVOICE_RULES, invoiceFields, invoiceRow, toCsv } from '../formats/sheet-files.ts';
import { issueTenantKeys } from '../support/tenant-keys.ts';

const notFound = (error: unknown): boolean => error instanceof ReamError && error.code === 'not_found';

let dir: string;
let ream: Ream;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-document-pages-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
});
after(async () => {
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

/** A table of `count` invoice rows; row `ragged` has a cell too many (it fails alone). */
async function table(name: string, count: number, ragged: number): Promise<string> {
  const rows = Array.from({ length: count }, (_, i) => invoiceRow(i + 1));
  rows[ragged - 1] = [...invoiceRow(ragged), 'one cell too many'];
  rows[count - 2] = ['Item marker', 'the zanzibar row', '1.5']; // one word on one row, to search for
  const path = join(dir, name);
  await writeFile(path, toCsv([['name', 'note', 'amount'], ...rows]));
  return path;
}

async function runRows(path: string): Promise<{ output: DocumentOutput; pages: DocumentPageResult[]; documentId: string }> {
  const job = await ream.submit({ pipeline: 'rows', options: { rules: INVOICE_RULES, chunkPages: 500 }, files: [path] });
  const done = await ream.wait(job.id);
  assert.equal(done.status, 'partially_succeeded');
  const [doc] = await ream.jobDocuments(job.id);
  const documentId = doc?.documentId ?? '';
  const result = await ream.documentResult(job.id, documentId);
  const pages: DocumentPageResult[] = [];
  for await (const page of ream.documentPages(job.id, documentId)) pages.push(page);
  return { output: fromJson<DocumentOutput>(result?.output ?? null), pages, documentId };
}

/** Checks every row read back against how it was made. */
function checkRows(pages: readonly DocumentPageResult[], count: number, ragged: number): void {
  assert.deepEqual(pages.map((page) => page.page), Array.from({ length: count }, (_, i) => i + 1), 'every row, in order');
  for (const page of pages) {
    const i = page.page;
    if (i === ragged) {
      assert.equal(page.failure?.code, 'invalid_sheet');
      assert.equal(page.read, undefined);
    } else if (i === count - 1) {
      assert.equal(page.read?.cells?.note, 'the zanzibar row');
    } else {
      assert.equal(page.failure, undefined, `row ${i}`);
      assert.equal(page.read?.cells?.name, `Item ${i}`);
      const [invoice, flag] = invoiceFields(i);
      assert.deepEqual(page.fields.invoice?.map((match) => match.value) ?? [], invoice ? [invoice] : [], `row ${i} invoice`);
      assert.deepEqual(page.fields.flag?.map((match) => match.value) ?? [], flag ? [flag] : [], `row ${i} flag`);
    }
  }
}

test(`a table of more than ${MAX_ROWS_IN_RESULT} rows: the result omits its rows, which are read back row by row and searchable`, async () => {
  const count = MAX_ROWS_IN_RESULT + 50;
  const ragged = 7_777;
  const { output, pages, documentId } = await runRows(await table('long.csv', count, ragged));
  assert.equal(output.pagesOmitted, true);
  assert.equal(output.pageCount, count);
  assert.deepEqual(output.pages, []);
  assert.deepEqual(output.fields, { invoice: [], flag: [] }, 'the fields found are named, their matches left with the rows');
  assert.deepEqual(output.failedPages.map((failure) => [failure.page, failure.code]), [[ragged, 'invalid_sheet']], 'failures are still listed');
  checkRows(pages, count, ragged);
  const hits = await ream.search('zanzibar');
  assert.deepEqual(hits.map((hit) => [hit.documentId, hit.page]), [[documentId, count - 1]], 'indexed chunk by chunk');
});

test('a short table keeps its rows in the result, and reading them row by row gives the same', async () => {
  const count = 1_200;
  const ragged = 5;
  const { output, pages } = await runRows(await table('short.csv', count, ragged));
  assert.equal(output.pagesOmitted, undefined);
  assert.equal(output.pages.length, count - 1);
  checkRows(pages, count, ragged);
  assert.deepEqual(pages.filter((page) => page.read).map((page) => page.read), output.pages);
});

test('over HTTP: GET /v1/jobs/:id/documents/:documentId/pages streams the rows as NDJSON (ReamClient.documentPages), for the job\'s tenant only', async () => {
  const server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } });
  try {
    const keys = await issueTenantKeys(ream);
    const owner = new ReamClient({ baseUrl: server.url, apiKey: keys.a });
    const other = new ReamClient({ baseUrl: server.url, apiKey: keys.b });
    const count = 700;
    const ragged = 3;
    const job = await owner.submit({ pipeline: 'rows', options: { rules: INVOICE_RULES, chunkPages: 250 }, files: [await table('http.csv', count, ragged)] });
    await owner.wait(job.id);
    const [result] = await owner.results(job.id);
    assert.ok(result);
    const pages: DocumentPageResult[] = [];
    for await (const page of owner.documentPages(job.id, result.documentId)) pages.push(page);
    checkRows(pages, count, ragged);
    await rejects(async () => {
      for await (const page of other.documentPages(job.id, result.documentId)) assert.fail(`another tenant read page ${page.page}`);
    }, notFound);
    await rejects(async () => {
      for await (const page of owner.documentPages(job.id, 'no-such-document')) assert.fail(`read page ${page.page}`);
    }, notFound);
  } finally {
    await server.close();
  }
});

test('a wide table leaves its rows in their checkpoints past a million cells, however few its rows, and reads them in chunks of at most a million cells', { timeout: 120_000 }, async () => {
  const run = async (rows: number, columns: number): Promise<{ output: DocumentOutput; pages: DocumentPageResult[]; chunks: number | null }> => {
    const path = join(dir, `wide-${rows}x${columns}.csv`);
    const line = (prefix: string): string => Array.from({ length: columns }, (_, i) => `${prefix}${i}`).join(',');
    await writeFile(path, [line('c'), ...Array.from({ length: rows }, (_, r) => line(`${r + 1}.`))].join('\n'));
    const job = await ream.submit({ pipeline: 'rows', files: [path] });
    assert.equal((await ream.wait(job.id)).status, 'succeeded');
    const [doc] = await ream.jobDocuments(job.id);
    const result = await ream.documentResult(job.id, doc?.documentId ?? '');
    const pages: DocumentPageResult[] = [];
    for await (const page of ream.documentPages(job.id, doc?.documentId ?? '')) pages.push(page);
    return { output: fromJson<DocumentOutput>(result?.output ?? null), pages, chunks: doc?.chunksTotal ?? null };
  };
  const wide = await run(101, 10_000);
  assert.equal(wide.chunks, 2, '100 rows of 10,000 columns a chunk, not 2,000');
  assert.equal(wide.output.pagesOmitted, true, 'over a million cells: no rows in the result');
  assert.deepEqual(wide.output.pages, []);
  assert.equal(wide.pages.length, 101);
  assert.equal(wide.pages[100]?.read?.cells?.c9999, '101.9999', 'read back from the checkpoints');
  const within = await run(100, 10_000);
  assert.equal(within.output.pagesOmitted, undefined, 'a million cells: the rows are listed');
  assert.equal(within.output.pages.length, 100);
});
