// Results as files (GET /v1/jobs/:id/download, and one document's): JSON and NDJSON carry the
// full results, CSV and XLSX the flat table, all streamed; a long table's 10,050 rows come out
// of their checkpoints. Read back with csv-parse and exceljs, as a user's tools would.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { ReamClient, type DownloadFormat, type JobView } from '../../src/client/index.ts';
import type { CellValue } from '../../src/formats/types.ts';
import { MAX_ROWS_IN_RESULT } from '../../src/pipeline/rows-pipeline.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { INVOICE_RULES, invoiceFields, invoiceRow, toCsv } from '../formats/sheet-files.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { makePdf } from '../support/make-pdf.ts';
import { issueTenantKeys } from '../support/tenant-keys.ts';

const RULES = [
  { name: 'total', pattern: 'Total due: ([\\d,.]+)', group: 1 },
  { name: 'customer', pattern: 'Customer: (.+)', group: 1 },
];
const LONG_ROWS = MAX_ROWS_IN_RESULT + 50;
const RAGGED_ROW = 4_321;

let dir: string;
let ream: Ream;
let server: RunningServer;
let a: ReamClient;
let b: ReamClient;
let rulesJob: JobView;
let rowsJob: JobView;

async function fetchBytes(client: ReamClient, jobId: string, format: DownloadFormat, documentId?: string): Promise<{ name: string; mediaType: string; bytes: Buffer }> {
  const file = await client.download(jobId, { format, ...(documentId === undefined ? {} : { documentId }) });
  const bytes = Buffer.from(await new Response(file.body).arrayBuffer());
  return { name: file.name, mediaType: file.mediaType, bytes };
}

async function csvRows(jobId: string, documentId?: string): Promise<string[][]> {
  const rows: string[][] = parse((await fetchBytes(a, jobId, 'csv', documentId)).bytes, { relaxColumnCount: false });
  return rows;
}

/** The cells of the first sheet: the download writes plain values only (no rich text, no formulas). */
async function xlsxRows(jobId: string, documentId?: string): Promise<CellValue[][]> {
  const book = new ExcelJS.Workbook();
  await book.xlsx.load((await fetchBytes(a, jobId, 'xlsx', documentId)).bytes as unknown as ArrayBuffer);
  const sheet = book.worksheets[0];
  assert.ok(sheet);
  const rows: CellValue[][] = [];
  sheet.eachRow({ includeEmpty: true }, (row) => {
    // exceljs rows are 1-based with a hole at 0.
    rows.push((row.values as CellValue[]).slice(1));
  });
  return rows;
}

async function firstDocument(jobId: string, index = 0): Promise<string> {
  const doc = (await ream.jobDocuments(jobId))[index];
  assert.ok(doc);
  return doc.documentId;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-downloads-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } });
  const keys = await issueTenantKeys(ream);
  a = new ReamClient({ baseUrl: server.url, apiKey: keys.a });
  b = new ReamClient({ baseUrl: server.url, apiKey: keys.b });
  const invoice = await makePdf({ pages: ['Hello\nCustomer: ACME "Corp", Ltd', 'Total due: 1,234.50 EUR'] });
  const memo = await makePdf({ pages: ['A memo with no fields'] });
  rulesJob = await a.submit({ pipeline: 'rules', options: { rules: RULES }, files: [{ name: 'invoice.pdf', data: invoice }, { name: 'memo.pdf', data: memo }] });
  const rows = Array.from({ length: LONG_ROWS }, (_, i) => invoiceRow(i + 1));
  rows[RAGGED_ROW - 1] = [...invoiceRow(RAGGED_ROW), 'one cell too many'];
  const csv = join(dir, 'long.csv');
  await writeFile(csv, toCsv([['name', 'note', 'amount'], ...rows]));
  rowsJob = await a.submit({ pipeline: 'rows', options: { rules: INVOICE_RULES, chunkPages: 2_000 }, files: [csv] });
  assert.equal((await a.wait(rulesJob.id)).status, 'succeeded');
  assert.equal((await a.wait(rowsJob.id)).status, 'partially_succeeded');
});
after(async () => {
  await server?.close();
  await ream?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a job of PDFs', () => {
  const header = ['document', 'page', 'text', 'total', 'customer', 'error_code', 'error_message'];

  test('CSV: one row per page, led by its document, a column per field (quotes and commas kept)', async () => {
    const file = await fetchBytes(a, rulesJob.id, 'csv');
    assert.equal(file.name, `job-${rulesJob.id}.csv`);
    assert.match(file.mediaType, /^text\/csv/);
    const rows = await csvRows(rulesJob.id);
    assert.deepEqual(rows[0], header);
    assert.deepEqual(rows.slice(1).map((row) => [row[0], row[1], row[3], row[4], row[5]]), [
      ['invoice.pdf', '1', '', 'ACME "Corp", Ltd', ''],
      ['invoice.pdf', '2', '1,234.50', '', ''],
      ['memo.pdf', '1', '', '', ''],
    ]);
    assert.match(rows[2]?.[2] ?? '', /Total due/);
  });

  test('XLSX holds the same table as the CSV', async () => {
    const csv = await csvRows(rulesJob.id);
    const xlsx = await xlsxRows(rulesJob.id);
    assert.deepEqual(xlsx.map((row) => header.map((_, i) => String(row[i] ?? ''))), csv);
  });

  test('JSON and NDJSON carry the full results, each field with its page', async () => {
    const json = JSON.parse((await fetchBytes(a, rulesJob.id, 'json')).bytes.toString('utf8')) as { items: Array<{ source: string; fields: Record<string, unknown> }> };
    assert.deepEqual(json.items.map((item) => item.source), ['invoice.pdf', 'memo.pdf']);
    assert.deepEqual(json.items[0]?.fields.total, [{ value: '1,234.50', page: 2 }]);
    const lines = (await fetchBytes(a, rulesJob.id, 'ndjson')).bytes.toString('utf8').trim().split('\n');
    assert.deepEqual(lines.map((line) => JSON.parse(line) as unknown), json.items);
    assert.deepEqual(json.items, await a.results(rulesJob.id));
  });

  test('one document: its result (JSON), its pages (NDJSON), its table (CSV) under its own name', async () => {
    const documentId = await firstDocument(rulesJob.id);
    const json = await fetchBytes(a, rulesJob.id, 'json', documentId);
    assert.equal(json.name, 'invoice.json');
    assert.equal((JSON.parse(json.bytes.toString('utf8')) as { documentId: string }).documentId, documentId);
    const pages = (await fetchBytes(a, rulesJob.id, 'ndjson', documentId)).bytes.toString('utf8').trim().split('\n');
    assert.deepEqual(pages.map((line) => (JSON.parse(line) as { page: number }).page), [1, 2]);
    const csv = await csvRows(rulesJob.id, documentId);
    assert.deepEqual(csv[0], ['page', 'text', 'total', 'customer', 'error_code', 'error_message']);
    assert.equal(csv.length, 3);
  });
});

describe(`a table of ${LONG_ROWS} rows (its result omits them)`, () => {
  test('CSV of the document: every row in order, the input columns, the fields and the failed row\'s error', async () => {
    const rows = await csvRows(rowsJob.id, await firstDocument(rowsJob.id));
    assert.deepEqual(rows[0], ['row', 'name', 'note', 'amount', 'invoice', 'flag', 'error_code', 'error_message']);
    assert.equal(rows.length, LONG_ROWS + 1);
    for (const i of [1, 2, 3, 4, 12, 9_999, LONG_ROWS]) {
      const row = rows[i] ?? [];
      assert.deepEqual(row.slice(0, 6), [String(i), ...invoiceRow(i), ...invoiceFields(i)], `row ${i}`);
    }
    assert.equal(rows[RAGGED_ROW]?.[6], 'invalid_sheet');
    assert.equal(rows[RAGGED_ROW]?.[1], '', 'a row that could not be read keeps its place, not its cells');
  });

  test('XLSX of the whole job: the same rows, led by the file name', async () => {
    const rows = await xlsxRows(rowsJob.id);
    assert.deepEqual(rows[0], ['document', 'row', 'name', 'note', 'amount', 'invoice', 'flag', 'error_code', 'error_message']);
    assert.equal(rows.length, LONG_ROWS + 1);
    assert.deepEqual(rows[LONG_ROWS]?.slice(0, 5), ['long.csv', LONG_ROWS, ...invoiceRow(LONG_ROWS)]);
  });
});

describe('refusals', () => {
  test('another tenant\'s job is not_found; an unknown format or document is refused', async () => {
    await rejectsWithCode(b.download(rulesJob.id, { format: 'csv' }), 'not_found');
    await rejectsWithCode(b.download(rulesJob.id, { format: 'json', documentId: await firstDocument(rulesJob.id) }), 'not_found');
    await rejectsWithCode(a.download(rulesJob.id, { format: 'pdf' as DownloadFormat }), 'validation_failed');
    await rejectsWithCode(a.download(rulesJob.id, { format: 'csv', documentId: 'nope' }), 'not_found');
  });

  test('every download is in the audit log, the refused ones too', async () => {
    // The log is written when each answer ends: the entries of the tests above are in by now.
    const entries = await ream.listAudit({ action: 'results.download', limit: 1000 });
    const ofJob = entries.filter((entry) => entry.target === rulesJob.id);
    assert.ok(ofJob.some((entry) => entry.tenantId === 'tenant-a' && entry.status === 200), 'a download by its tenant');
    assert.ok(ofJob.some((entry) => entry.tenantId === 'tenant-b' && entry.status === 404), 'a refused one by another tenant');
  });
});
