// The console's document page of a table, in Chromium: a 30,000-row result as a virtualised table
// (a few dozen <tr> whatever the scroll), sorted and filtered by the server; a 450,000-row one,
// laid out at the console's 15 million px cap and scrolled on a scale to its end and its middle; a rows job with a
// template shows its HTML report inline, in a sandboxed frame that runs no script.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { ReamClient } from '../../src/client/index.ts';
import { toCsv } from '../formats/sheet-files.ts';
import { MAX_SCROLL_PX } from '../../ui/src/scroll-scale.ts';
import { assertAccessible, useConsole } from '../support/console-browser.ts';

const WAIT_MS = 30_000;
const ROWS = 30_000;
const CITIES = ['Oslo', 'Lima', 'Quito', 'Riga', 'Bern'];
const amountOf = (i: number): number => (i * 7_919) % ROWS;
/** No virtualised table keeps this many rows in the DOM. */
const MAX_ROWS_IN_DOM = 200;
const TEMPLATE = '<style>h1 { color: rgb(200, 0, 0); }</style><h1>Invoice {{ invoice_no }}</h1><p>{{ customer }} owes {{ total }}</p><script>alert("report script ran")</script>';

let client: ReamClient;
let tableJob: string;
let tableDoc: string;
let reportJob: string;
let reportDoc: string;

const con = useConsole('dashboard-rows');

con.before(async () => {
  if (con.browser === undefined) return;
  client = new ReamClient({ baseUrl: con.server.url });
  const rows = Array.from({ length: ROWS }, (_, index) => {
    const i = index + 1;
    return [`Item ${i}`, i === 12_345 ? 'Zanzibar <b>bold</b>' : CITIES[i % CITIES.length] ?? '', String(amountOf(i))];
  });
  const csv = join(con.dir, 'orders.csv');
  await writeFile(csv, toCsv([['name', 'city', 'amount'], ...rows]));
  const invoices = join(con.dir, 'invoices.csv');
  await writeFile(invoices, toCsv([['invoice_no', 'customer', 'total'], ['A-1', 'Ada <img src=x>', '10'], ['A-2', 'Bob', '20']]));
  const table = await client.submit({ pipeline: 'rows', options: { rules: [{ name: 'big', pattern: String.raw`^2\d{4}$` }] }, files: [csv] });
  const report = await client.submit({ pipeline: 'rows', options: { template: TEMPLATE, name: '{{ invoice_no }}' }, files: [invoices] });
  assert.equal((await client.wait(table.id)).status, 'succeeded');
  assert.equal((await client.wait(report.id)).status, 'succeeded');
  tableJob = table.id;
  reportJob = report.id;
  tableDoc = (await con.ream.jobDocuments(tableJob))[0]?.documentId ?? '';
  reportDoc = (await con.ream.jobDocuments(reportJob))[0]?.documentId ?? '';
});

async function firstRowIs(page: Page, row: number): Promise<void> {
  // A locator, not waitForFunction: a predicate evaluated in the page is eval, which the console's CSP refuses.
  await page.locator('.rows-table tbody tr[data-row]').first().and(page.locator(`tr[data-row="${row}"]`)).waitFor({ timeout: WAIT_MS });
}
const rowsInDom = (page: Page) => page.locator('.rows-table tr').count();

void test(`console: a ${ROWS}-row table scrolls to its end with few rows in the DOM, sorts and filters on the server`, { timeout: 60_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  await page.goto(`${con.server.url}/#/jobs/${tableJob}/documents/${tableDoc}`);
  await page.locator('#rows-count', { hasText: `${ROWS} rows` }).waitFor({ timeout: WAIT_MS });
  await page.locator('tr[data-row="1"]', { hasText: 'Item 1' }).waitFor({ timeout: WAIT_MS });
  assert.deepEqual(await page.locator('.rows-table thead th').allTextContents(), ['Row', 'name', 'city', 'amount', 'big', 'Error']);
  assert.ok((await rowsInDom(page)) < MAX_ROWS_IN_DOM, 'virtualised: only the rows in view');

  // To the end: the last row is fetched by its window (rows 29,801–30,000), not by reading them all.
  await page.locator('.rows-scroll').evaluate((element: { scrollTo(x: number, y: number): void; scrollHeight: number }) => element.scrollTo(0, element.scrollHeight));
  const last = page.locator(`tr[data-row="${ROWS}"]`);
  await last.waitFor({ timeout: WAIT_MS });
  assert.match(await last.innerText(), new RegExp(`Item ${ROWS}`));
  assert.ok((await rowsInDom(page)) < MAX_ROWS_IN_DOM, 'still few rows at the end');

  // Sort by amount: ascending puts row 30,000 (amount 0) first, descending the row of amount 29,999.
  const amount = page.getByRole('button', { name: 'amount', exact: true });
  await amount.click();
  await page.locator('th[aria-sort="ascending"]', { hasText: 'amount' }).waitFor({ timeout: WAIT_MS });
  await firstRowIs(page, ROWS);
  await amount.press('Enter'); // the header buttons work from the keyboard
  await page.locator('th[aria-sort="descending"]', { hasText: 'amount' }).waitFor({ timeout: WAIT_MS });
  const topAmount = Array.from({ length: ROWS }, (_, i) => i + 1).find((i) => amountOf(i) === ROWS - 1) ?? 0;
  await firstRowIs(page, topAmount);
  assert.equal(await page.locator('th[aria-sort="none"]').count(), 5, 'one column sorted at a time');

  // Filter the city column: one row, its markup shown as text.
  await page.getByLabel('Filter', { exact: true }).selectOption({ label: 'city' });
  await page.getByLabel('Text the rows contain').fill('zanzi');
  await page.locator('#rows-count', { hasText: /^1 row matches$/ }).waitFor({ timeout: WAIT_MS });
  await page.locator('tr[data-row="12345"]').waitFor({ timeout: WAIT_MS });
  assert.equal(await page.locator('.rows-table tbody tr[data-row]').count(), 1);
  assert.equal(await page.locator('tr[data-row="12345"] td').nth(2).textContent(), 'Zanzibar <b>bold</b>', 'user text as text');
  assert.equal(await page.locator('.rows-table b').count(), 0);
  await assertAccessible(page, 'document page of a table');
});

void test('console: a rows job with a template shows its HTML report inline, sandboxed, styled, without running its script', { timeout: 60_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  await page.goto(`${con.server.url}/#/jobs/${reportJob}/documents/${reportDoc}`);
  const select = page.getByLabel('Report (2)');
  await select.waitFor({ timeout: WAIT_MS });
  assert.deepEqual(await select.locator('option').allTextContents(), ['A-1.html (row 1)', 'A-2.html (row 2)']);
  const report = page.frameLocator('#report-frame').frameLocator('iframe[sandbox]');
  await report.locator('h1', { hasText: 'Invoice A-1' }).waitFor({ timeout: WAIT_MS });
  assert.equal(await page.locator('#report-frame').getAttribute('sandbox'), 'allow-same-origin', 'the outer frame runs no script either');
  const inner = page.frameLocator('#report-frame').locator('iframe');
  assert.equal(await inner.getAttribute('sandbox'), '', 'the report: no allow-scripts, an opaque origin');
  const colorOf = (element: unknown): string => (globalThis as unknown as { getComputedStyle(of: unknown): { color: string } }).getComputedStyle(element).color;
  assert.equal(await report.locator('h1').evaluate(colorOf), 'rgb(200, 0, 0)', 'its inline <style> applies');
  assert.equal(await report.locator('img').count(), 0, 'a value is escaped by the template');

  await select.selectOption({ label: 'A-2.html (row 2)' });
  await report.locator('h1', { hasText: 'Invoice A-2' }).waitFor({ timeout: WAIT_MS });
  // A row of the table shows its own report, from its row number.
  await page.getByRole('button', { name: 'Show the report of row 1' }).click();
  await report.locator('h1', { hasText: 'Invoice A-1' }).waitFor({ timeout: WAIT_MS });
  assert.equal(await select.inputValue(), 'A-1.html');
  await assertAccessible(page, 'document page with a report');

  // The job page lists the job's reports too.
  await page.goto(`${con.server.url}/#/jobs/${reportJob}`);
  await page.frameLocator('#report-frame').frameLocator('iframe[sandbox]').locator('h1', { hasText: 'Invoice A-1' }).waitFor({ timeout: WAIT_MS });

  // The artifact itself is never a page of this origin, nor framed; the console frames only its report frame.
  const artifact = await fetch(`${con.server.url}/v1/jobs/${reportJob}/artifacts/A-1.html`);
  const policy = artifact.headers.get('content-security-policy') ?? '';
  for (const directive of ["default-src 'none'", "style-src 'unsafe-inline'", 'img-src data:', 'sandbox', "frame-ancestors 'none'"]) assert.ok(policy.includes(directive), directive);
  assert.equal(artifact.headers.get('x-frame-options'), 'DENY');
  const consolePolicy = (await fetch(`${con.server.url}/`)).headers.get('content-security-policy') ?? '';
  assert.match(consolePolicy, /frame-src 'self'/);
  assert.match(consolePolicy, /style-src 'self';/, 'the console\'s own styles stay strict');
  const framePolicy = (await fetch(`${con.server.url}/report-frame`)).headers.get('content-security-policy') ?? '';
  assert.equal(framePolicy, "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'");
});

void test('console: a 450,000-row table (16.2 million px of rows) is laid out at 15 million px and scrolls on a scale to its last row and its middle', { timeout: 80_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const count = 450_000; // 36 px each: 16.2 million px, past the 15 million the console lays out
  const csv = join(con.dir, 'long.csv');
  await writeFile(csv, `n,word\n${Array.from({ length: count }, (_, i) => `${i + 1},w${i + 1}`).join('\n')}\n`);
  const job = await client.submit({ pipeline: 'rows', options: { rules: [{ name: 'seven', pattern: '7$' }] }, files: [csv] });
  assert.equal((await client.wait(job.id)).status, 'succeeded');
  const documentId = (await con.ream.jobDocuments(job.id))[0]?.documentId ?? '';

  await page.goto(`${con.server.url}/#/jobs/${job.id}/documents/${documentId}`);
  await page.locator('#rows-count', { hasText: `${count} rows` }).waitFor({ timeout: WAIT_MS });
  await page.locator('tr[data-row="1"]').waitFor({ timeout: WAIT_MS });
  const scroller = page.locator('.rows-scroll');
  const height = await scroller.evaluate((element: { scrollHeight: number }) => element.scrollHeight);
  // Laid out at the console's cap (plus the header row), not at 16.2 million px: on a scale.
  assert.ok(height >= MAX_SCROLL_PX && height < MAX_SCROLL_PX + 200, `laid out at the cap (${height} px)`);

  await scroller.evaluate((element: { scrollTo(x: number, y: number): void; scrollHeight: number }) => element.scrollTo(0, element.scrollHeight));
  await page.locator(`tr[data-row="${count}"]`, { hasText: `w${count}` }).waitFor({ timeout: WAIT_MS });
  assert.ok((await rowsInDom(page)) < MAX_ROWS_IN_DOM, 'few rows in the DOM at the end');
  // The last row is in view, not merely in the DOM.
  const [box, view] = await Promise.all([page.locator(`tr[data-row="${count}"]`).boundingBox(), scroller.boundingBox()]);
  assert.ok(box && view && box.y >= view.y - 1 && box.y + box.height <= view.y + view.height + 1, 'the last row is visible');

  // Halfway down the scroll range is halfway down the table.
  await scroller.evaluate((element: { scrollTo(x: number, y: number): void; scrollHeight: number; clientHeight: number }) => element.scrollTo(0, (element.scrollHeight - element.clientHeight) / 2));
  await page.locator(`tr[data-row="${count / 2}"]`).waitFor({ timeout: WAIT_MS });
  assert.ok((await rowsInDom(page)) < MAX_ROWS_IN_DOM);
});

void test('console: a document of 150 reports lists 100, then the rest on asking; a row past those listed shows its report, asked by row', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const csv = join(con.dir, 'many-reports.csv');
  await writeFile(csv, toCsv([['no'], ...Array.from({ length: 150 }, (_, i) => [String(i + 1)])]));
  const job = await client.submit({ pipeline: 'rows', options: { template: '<h1>Report {{ no }}</h1>', name: 'N-{{ no }}' }, files: [csv] });
  assert.equal((await client.wait(job.id)).status, 'succeeded');
  const documentId = (await con.ream.jobDocuments(job.id))[0]?.documentId ?? '';
  const listings: string[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.endsWith('/artifacts')) listings.push(new URL(request.url()).search);
  });

  await page.goto(`${con.server.url}/#/jobs/${job.id}/documents/${documentId}`);
  const options = page.locator('#report-select option');
  await page.locator('#more-reports').waitFor({ timeout: WAIT_MS });
  assert.equal(await options.count(), 100, 'the first page');
  assert.deepEqual(listings, [`?documentId=${documentId}&limit=100`], 'asked of the server for this document, a page');
  // Row 140's report is not listed yet: its number is a button all the same, and shows it.
  await page.locator('.rows-scroll').evaluate((element: { scrollTo(x: number, y: number): void; scrollHeight: number }) => element.scrollTo(0, element.scrollHeight));
  await page.getByRole('button', { name: 'Show the report of row 140' }).click({ timeout: WAIT_MS });
  const report = page.frameLocator('#report-frame').frameLocator('iframe[sandbox]');
  await report.locator('h1', { hasText: 'Report 140' }).waitFor({ timeout: WAIT_MS });
  assert.equal(await page.locator('#report-select').inputValue(), 'N-140.html');
  assert.ok(listings.includes(`?documentId=${documentId}&row=140&limit=100`), listings.join(' '));

  await page.locator('#more-reports').click();
  await options.nth(149).waitFor({ state: 'attached', timeout: WAIT_MS });
  assert.equal(await options.count(), 150, 'the rest, N-140 once');
  assert.equal(await page.locator('#more-reports').count(), 0, 'nothing more to list');
  await assertAccessible(page, 'document page with more reports than a page');
});
