// The console's download buttons, in Chromium, with auth on: the job page saves the whole job's
// results as CSV and XLSX, the document page one table's rows; the files the browser saved are
// opened here (csv-parse, exceljs) and checked cell by cell. The browser downloads each file
// itself (streamed to disk) from a URL with a single-use ticket: no URL it requests has the key.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import type { Page } from 'playwright-core';
import { ReamClient, type JobView } from '../../src/client/index.ts';
import type { CellValue } from '../../src/formats/types.ts';
import { INVOICE_RULES, invoiceFields, invoiceRow, toCsv } from '../formats/sheet-files.ts';
import { assertAccessible, useConsole } from '../support/console-browser.ts';
import { makePdf } from '../support/make-pdf.ts';
import { issueTenantKeys } from '../support/tenant-keys.ts';

const WAIT_MS = 30_000;
const TABLE_ROWS = 300;

let pdfJob: JobView;
let tableJob: JobView;
let key: string;

const con = useConsole('dashboard-downloads', { server: { auth: { mode: 'on' } } });

con.before(async () => {
  key = (await issueTenantKeys(con.ream)).a;
  const client = new ReamClient({ baseUrl: con.server.url, apiKey: key });
  const invoice = await makePdf({ pages: ['Customer: ACME, "the" Corp', 'Total due: 1,234.50 EUR'] });
  pdfJob = await client.submit({ pipeline: 'rules', options: { rules: [{ name: 'total', pattern: 'Total due: ([\\d,.]+)', group: 1 }, { name: 'customer', pattern: 'Customer: (.+)', group: 1 }] }, files: [{ name: 'invoice.pdf', data: invoice }] });
  const csv = join(con.dir, 'orders.csv');
  await writeFile(csv, toCsv([['name', 'note', 'amount'], ...Array.from({ length: TABLE_ROWS }, (_, i) => invoiceRow(i + 1))]));
  tableJob = await client.submit({ pipeline: 'rows', options: { rules: INVOICE_RULES }, files: [csv] });
  await client.wait(pdfJob.id);
  await client.wait(tableJob.id);
});

/** A page signed in with the key at `route`; every URL it requests is kept in `urls`. */
async function signedIn(t: TestContext, route: string): Promise<{ page: Page; urls: string[] } | undefined> {
  const page = await con.page(t);
  if (!page) return undefined;
  const urls: string[] = [];
  page.on('request', (request) => urls.push(request.url()));
  await page.goto(`${con.server.url}/#${route}`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  return { page, urls };
}

/**
 * Clicks the button and answers the file the browser saved: its suggested name and bytes. The
 * browser fetched it itself from a ticket URL of that download, with no key in it.
 */
async function save(page: Page, group: string, format: string): Promise<{ name: string; bytes: Buffer }> {
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: WAIT_MS }), page.getByRole('group', { name: group }).getByRole('button', { name: format, exact: true }).click()]);
  const url = new URL(file.url());
  assert.equal(url.origin, con.server.url);
  assert.match(url.pathname, /^\/v1\/jobs\/[^/]+\/(documents\/[^/]+\/)?download$/);
  assert.equal(url.searchParams.get('format'), format.toLowerCase());
  assert.match(url.searchParams.get('ticket') ?? '', /^dlt_[\w-]{43}$/, 'a single-use ticket');
  assert.ok(!file.url().includes(key), 'no key in the URL');
  const path = await file.path();
  return { name: file.suggestedFilename(), bytes: await readFile(path) };
}

/**
 * No URL the page requested carried the key, and it asked for one ticket per download (the
 * download navigations themselves are the browser's, seen by `save` through `Download.url()`).
 */
function assertNoKeyInUrls(urls: string[], downloads: number): void {
  assert.deepEqual(urls.filter((url) => url.includes(key) || url.includes('apiKey')), []);
  assert.equal(urls.filter((url) => url === `${con.server.url}/v1/download-tickets`).length, downloads, urls.join('\n'));
}

async function xlsxCells(bytes: Buffer): Promise<CellValue[][]> {
  const book = new ExcelJS.Workbook();
  await book.xlsx.load(bytes as unknown as ArrayBuffer);
  const rows: CellValue[][] = [];
  // Plain values only (the download writes no rich text or formulas); exceljs rows are 1-based.
  book.worksheets[0]?.eachRow((row) => rows.push((row.values as CellValue[]).slice(1)));
  return rows;
}

describe('console downloads', { timeout: 120_000 }, () => {
  test('the job page saves the whole job as CSV and XLSX: a row per page, a column per field', async (t) => {
    const signed = await signedIn(t, `/jobs/${pdfJob.id}`);
    if (!signed) return;
    const { page, urls } = signed;
    await page.locator('#job-status', { hasText: /^succeeded$/ }).waitFor({ timeout: WAIT_MS });
    const buttons = page.getByRole('group', { name: 'Download results' }).getByRole('button');
    await page.locator('.downloads button:not([disabled])').nth(3).waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await buttons.allTextContents(), ['JSON', 'NDJSON', 'CSV', 'XLSX']);
    await assertAccessible(page, 'job with downloads');

    const csv = await save(page, 'Download results', 'CSV');
    assert.equal(csv.name, `job-${pdfJob.id}.csv`);
    const rows: string[][] = parse(csv.bytes);
    assert.deepEqual(rows[0], ['document', 'page', 'text', 'total', 'customer', 'error_code', 'error_message']);
    assert.deepEqual(rows.slice(1).map((row) => [row[0], row[1], row[3], row[4]]), [
      ['invoice.pdf', '1', '', 'ACME, "the" Corp'],
      ['invoice.pdf', '2', '1,234.50', ''],
    ]);

    const xlsx = await save(page, 'Download results', 'XLSX');
    assert.equal(xlsx.name, `job-${pdfJob.id}.xlsx`);
    const cells = await xlsxCells(xlsx.bytes);
    assert.deepEqual(cells.map((row) => [row[0], row[1], row[3] ?? '', row[4] ?? '']), [
      ['document', 'page', 'total', 'customer'],
      ['invoice.pdf', 1, '', 'ACME, "the" Corp'],
      ['invoice.pdf', 2, '1,234.50', ''],
    ]);

    const json = await save(page, 'Download results', 'JSON');
    assert.equal((JSON.parse(json.bytes.toString('utf8')) as { items: unknown[] }).items.length, 1);
    assertNoKeyInUrls(urls, 3);
  });

  test("the document page saves one table's rows as CSV and XLSX, in order, with their fields", async (t) => {
    const [doc] = await con.ream.jobDocuments(tableJob.id);
    assert.ok(doc);
    const signed = await signedIn(t, `/jobs/${tableJob.id}/documents/${doc.documentId}`);
    if (!signed) return;
    const { page, urls } = signed;
    await page.getByRole('group', { name: 'Download result' }).waitFor({ timeout: WAIT_MS });
    await assertAccessible(page, 'document with downloads');

    const csv = await save(page, 'Download result', 'CSV');
    assert.equal(csv.name, 'orders.csv');
    const rows: string[][] = parse(csv.bytes);
    assert.deepEqual(rows[0], ['row', 'name', 'note', 'amount', 'invoice', 'flag', 'error_code', 'error_message']);
    assert.equal(rows.length, TABLE_ROWS + 1);
    for (const i of [1, 2, 3, 4, TABLE_ROWS]) assert.deepEqual(rows[i]?.slice(0, 6), [String(i), ...invoiceRow(i), ...invoiceFields(i)], `row ${i}`);

    const xlsx = await xlsxCells((await save(page, 'Download result', 'XLSX')).bytes);
    assert.equal(xlsx.length, TABLE_ROWS + 1);
    assert.deepEqual(xlsx[TABLE_ROWS]?.slice(0, 4), [TABLE_ROWS, ...invoiceRow(TABLE_ROWS)]);
    assertNoKeyInUrls(urls, 2);
  });
});
