import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { ordersWorkbook } from '../formats/sheet-files.ts';
import { assertAccessible, useConsole } from '../support/console-browser.ts';

const WAIT_MS = 30_000;
const XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

const con = useConsole('dashboard-sheets', { serve: false });

void test('console: a workbook for the rows pipeline lists its sheets and columns; the job reads the sheet and column picked', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const { server } = await con.serve('data');
  await page.goto(`${server.url}/#/submit`);
  await page.getByLabel('Pipeline', { exact: true }).waitFor({ timeout: WAIT_MS });
  await page.getByLabel('chunkPages', { exact: true }).waitFor({ timeout: WAIT_MS }); // the schemas are in
  await page.getByLabel('Pipeline', { exact: true }).selectOption('rows');
  await page.locator('#files').setInputFiles([{ name: 'orders.xlsx', mimeType: XLSX, buffer: Buffer.from(await ordersWorkbook()) }]);

  // Stored at once and read by the server: its sheets with a header, then the second one's columns.
  const sheet = page.getByLabel('Sheet to read');
  await sheet.waitFor({ timeout: WAIT_MS });
  assert.deepEqual(await sheet.locator('option').allTextContents(), ['(the first: Notes)', 'Notes', 'Orders']);
  assert.deepEqual(await page.locator('.columns-pick label').allTextContents(), ['topic', 'done']);
  await sheet.selectOption('Orders');
  await page.locator('.columns-pick label', { hasText: 'note' }).waitFor({ timeout: WAIT_MS });
  assert.deepEqual(await page.locator('.columns-pick label').allTextContents(), ['id', 'date', 'qty', 'price', 'total', 'note']);
  await page.getByLabel('note', { exact: true }).check();
  assert.equal(await page.getByLabel('sheet', { exact: true }).inputValue(), 'Orders', 'the pick fills the form built from the schema');
  await assertAccessible(page, 'new job with a spreadsheet');

  // The picks belong to that file: removed, they go with it; picked again, it starts afresh.
  await page.getByRole('button', { name: 'Remove orders.xlsx' }).click();
  const picks = async (): Promise<string[]> => [await page.getByLabel('sheet', { exact: true }).inputValue(), await page.getByLabel('columns (JSON)', { exact: true }).inputValue()];
  for (const started = Date.now(); (await picks()).join('') !== '' && Date.now() - started < WAIT_MS;) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(await picks(), ['', '']);
  await page.locator('#files').setInputFiles([{ name: 'orders.xlsx', mimeType: XLSX, buffer: Buffer.from(await ordersWorkbook()) }]);
  await sheet.waitFor({ timeout: WAIT_MS });
  await sheet.selectOption('Orders');
  await page.getByLabel('note', { exact: true }).check();

  await page.getByRole('button', { name: 'Start job' }).click();
  await page.locator('#job-status', { hasText: /^succeeded$/ }).waitFor({ timeout: WAIT_MS });
  const jobId = /#\/jobs\/([^/]+)$/.exec(page.url())?.[1] ?? '';
  const client = new ReamClient({ baseUrl: server.url });
  const job = await client.getJob(jobId);
  assert.deepEqual(job.options, { sheet: 'Orders', columns: ['note'] });
  const [result] = await client.results(jobId);
  assert.equal(result?.pageCount, 4, 'the Orders sheet: four data rows');
  assert.deepEqual(Object.keys(result.pages[0]?.cells ?? {}), ['note'], 'each row fed with the picked column only');
  assert.equal(result.pages[0]?.text, 'note: first');
  // The document's rows table shows the column the job kept, not the others as empty ones.
  await page.goto(`${server.url}/#/jobs/${jobId}/documents/${result.documentId}`);
  await page.locator('.rows-table tbody tr').first().waitFor({ timeout: WAIT_MS });
  const headers = await page.locator('.rows-table thead th').allTextContents();
  assert.ok(headers.some((header) => header.startsWith('note')), headers.join(' | '));
  assert.ok(!headers.some((header) => /^(id|date|qty|price|total)\b/.test(header)), `only the kept column: ${headers.join(' | ')}`);
});
