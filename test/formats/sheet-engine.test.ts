// Tables through the engine, by each way in: the library and POST /v1/jobs (embedded), and a
// distributed deployment (a server and two workers over Redis, PostgreSQL and S3). Rows are
// pages, so row batches are chunks; the `rows` pipeline gives every row its own fields.
import assert from 'node:assert/strict';
import { openAsBlob } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import type { Fields } from '../../src/analyzers/port.ts';
import { planChunks } from '../../src/pipeline/chunk-planner.ts';
import type { DocumentOutput } from '../../src/pipeline/types.ts';
import { createReam } from '../../src/runtime/create-ream.ts';
import { startServer } from '../../src/server/app.ts';
import type { JobView } from '../../src/server/views.ts';
import { startCluster } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';
import { INVOICE_FIELDS, INVOICE_RULES, invoiceFields, invoiceRow, ORDERS_CELLS, ordersWorkbook, toCsv } from './sheet-files.ts';

const ROWS = 45;
const header = ['name', 'note', 'amount'];

let dir: string;
let csv: string;
let xlsx: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-sheet-engine-'));
  csv = join(dir, 'invoices.csv');
  await writeFile(csv, toCsv([header, ...Array.from({ length: ROWS }, (_, i) => invoiceRow(i + 1))]));
  xlsx = join(dir, 'book.xlsx');
  await writeFile(xlsx, await ordersWorkbook());
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The fields of one row, in rule order, as the CLI's table has them ('' when not found). */
function rowFields(fields: Fields, row: number): string[] {
  return INVOICE_FIELDS.map((name) => (fields[name] ?? []).filter((m) => m.page === row).map((m) => m.value).join('; '));
}

/** The invoices table came back whole: a page per row with its cells, and each row's own fields. */
function checkInvoices(output: DocumentOutput | undefined): void {
  assert.ok(output);
  assert.equal(output.status, 'succeeded', output.error?.message);
  assert.equal(output.mediaType, 'text/csv');
  assert.equal(output.pageCount, ROWS);
  assert.deepEqual(output.metadata?.columns, header);
  const { pages } = output;
  for (let row = 1; row <= ROWS; row++) {
    const cells = pages[row - 1]?.cells;
    assert.deepEqual(header.map((c) => cells?.[c]), invoiceRow(row), `row ${row} cells`);
    assert.deepEqual(rowFields(output.fields, row), invoiceFields(row), `row ${row} fields`);
  }
}

describe('tables through the engine', () => {
  test('library and POST /v1/jobs (embedded): CSV and XLSX accepted, rows as pages, fields per row', async () => {
    const ream = await createReam({ dataDir: join(dir, 'embedded'), threads: 1 });
    const server = await startServer({ ream, host: '127.0.0.1', port: 0 });
    try {
      const job = await ream.submit({ pipeline: 'rows', options: { rules: INVOICE_RULES, sheet: 'Orders', chunkPages: 10 }, files: [csv, xlsx] });
      await ream.wait(job.id);
      const [invoices, book] = await Array.fromAsync(ream.results(job.id));
      checkInvoices(invoices);
      assert.equal((await ream.counts(job.id)).chunksTotal, planChunks(ROWS, 10).length + 1, 'row batches of 10, and one for the 4-row sheet');
      assert.equal(book?.metadata?.sheet, 'Orders');
      assert.deepEqual(book?.pages.map((p) => Object.values(p.cells ?? {})), ORDERS_CELLS);

      // Over HTTP, with the plain extract pipeline: a CSV is a document read as text, one page
      // for its 45 rows (tables as sheets: test/formats/sheet-pages.test.ts).
      const body = new FormData();
      body.append('pipeline', 'extract');
      body.append('file', await openAsBlob(csv), 'invoices.csv');
      const response = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body });
      assert.equal(response.status, 202, await response.clone().text());
      const view = (await response.json()) as JobView;
      await ream.wait(view.id);
      const [overHttp] = await Array.fromAsync(ream.results(view.id));
      assert.equal(overHttp?.status, 'succeeded');
      assert.equal(overHttp?.pageCount, 1);
      assert.equal(overHttp?.pages[0]?.text.split('\n').length, ROWS + 1, 'the header and every row');
    } finally {
      await server.close();
      await ream.close();
    }
  });

  test('distributed (BullMQ, PostgreSQL, S3; two workers): the same rows, the same fields', { timeout: 300_000 }, async (t) => {
    const missing = (await redisUnavailable()) ?? (await postgresUnavailable());
    if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
    const cluster = await startCluster({ workers: 2, workerArgs: ['--concurrency', '2', '--threads', '1'] });
    try {
      const client = new ReamClient({ baseUrl: cluster.server.url });
      const job = await client.submit({ files: [csv], pipeline: 'rows', options: { rules: INVOICE_RULES, chunkPages: 10 } });
      const done = await client.wait(job.id, { signal: AbortSignal.timeout(120_000) });
      assert.equal(done.status, 'succeeded', cluster.output());
      assert.equal(done.counts.chunks.total, planChunks(ROWS, 10).length);
      const [output] = await client.results(job.id);
      checkInvoices(output);
    } finally {
      await cluster.stop();
    }
  });
});
