// A job's documents narrowed to a status, by the API (GET /v1/jobs/:id/documents?status=…, paged
// among them) and in Chromium (the job page's Show picker, kept in the link): the failed
// documents of a job of more than a page are found without reading every page.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReamClient, type JobView } from '../../src/client/index.ts';
import { assertAccessible, useConsole } from '../support/console-browser.ts';

const WAIT_MS = 30_000;
/** More documents than the page of 100 the job page lists first. */
const GOOD = 110;
/** Where the two broken files are in the job's input: one in the first page, one past it. */
const BROKEN_AT = [40, GOOD];

const con = useConsole('dashboard-job-documents-filter');
let client: ReamClient;
let job: JobView;

con.before(async () => {
  client = new ReamClient({ baseUrl: con.server.url });
  const files = Array.from({ length: GOOD }, (_, i) => ({ name: `note-${String(i).padStart(3, '0')}.txt`, data: new TextEncoder().encode(`note ${i}`) }));
  for (const [n, at] of BROKEN_AT.entries()) files.splice(at, 0, { name: `broken-${n}.pdf`, data: new TextEncoder().encode(`%PDF-1.4\nnot a pdf ${n}\n`) });
  job = await client.submit({ files });
  job = await client.wait(job.id, { signal: AbortSignal.timeout(120_000) });
  assert.equal(job.status, 'partially_succeeded');
});

void test('API: a job\'s documents of some statuses only, a page at a time among them', async () => {
  const first = await client.jobDocuments(job.id, { status: ['failed', 'partially_succeeded'], limit: 1 });
  assert.deepEqual(first.items.map((doc) => [doc.name, doc.status, doc.error?.code]), [['broken-0.pdf', 'failed', 'invalid_pdf']]);
  assert.ok(first.nextCursor !== null);
  const second = await client.jobDocuments(job.id, { status: ['failed', 'partially_succeeded'], limit: 1, cursor: first.nextCursor });
  assert.deepEqual(second.items.map((doc) => doc.name), ['broken-1.pdf']);
  assert.equal(second.nextCursor, null);
  assert.equal((await client.jobDocuments(job.id, { status: ['cancelled'] })).items.length, 0);
  assert.equal((await client.jobDocuments(job.id, { status: ['succeeded'], limit: 1000 })).items.length, GOOD);
  const answer = await fetch(`${con.server.url}/v1/jobs/${job.id}/documents?status=failed,broken`);
  assert.equal(answer.status, 400);
  const problem = (await answer.json()) as { code: string; detail: string };
  assert.equal(problem.code, 'validation_failed');
  assert.match(problem.detail, /not "broken"/);
});

void test('console: Show picks the failed documents of a job of more than a page; the link keeps it', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  await page.goto(`${con.server.url}/#/jobs/${job.id}`);
  await page.locator('#job-status', { hasText: /^partially succeeded$/ }).waitFor({ timeout: WAIT_MS });
  await page.locator('.documents li').nth(99).waitFor({ timeout: WAIT_MS });
  assert.equal(await page.locator('.documents li', { hasText: 'broken-1.pdf' }).count(), 0, 'the second broken file is past the first page');

  const show = page.getByLabel('Show');
  assert.equal(await show.locator('option[value="failed"]').textContent(), 'failed or partially succeeded (2)');
  await show.selectOption('failed');
  await page.waitForURL(/\?documents=failed$/, { timeout: WAIT_MS });
  await page.locator('.documents li', { hasText: 'broken-1.pdf' }).waitFor({ timeout: WAIT_MS });
  assert.deepEqual(await page.locator('.documents li .name').allTextContents(), ['broken-0.pdf', 'broken-1.pdf']);
  assert.match((await page.locator('.documents li', { hasText: 'broken-1.pdf' }).locator('.error').textContent()) ?? '', /\(invalid_pdf\)$/);
  assert.equal(await page.locator('#more-documents').count(), 0, 'no Show more: both are listed');
  await assertAccessible(page, 'job page showing its failed documents');

  // A reload (or a link, or Back from a document) keeps the filter.
  await page.reload();
  await page.locator('.documents li', { hasText: 'broken-1.pdf' }).waitFor({ timeout: WAIT_MS });
  assert.equal(await page.locator('.documents li').count(), 2);
  assert.equal(await page.getByLabel('Show').inputValue(), 'failed');

  await page.getByLabel('Show').selectOption('cancelled');
  await page.locator('#documents-empty', { hasText: 'No document is cancelled.' }).waitFor({ timeout: WAIT_MS });
  await page.getByLabel('Show').selectOption('');
  await page.locator('.documents li').nth(99).waitFor({ timeout: WAIT_MS });
  await page.locator('#more-documents').waitFor({ timeout: WAIT_MS });
});

void test('console: a narrowed list read past its first page follows its documents as they move on', { timeout: 120_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  // No work: the documents stay queued until the test cancels them, a page and a half at a time.
  const idle = await con.serve('idle', { work: false });
  const idleClient = new ReamClient({ baseUrl: idle.server.url });
  const files = Array.from({ length: 250 }, (_, i) => ({ name: `wait-${String(i).padStart(3, '0')}.txt`, data: new TextEncoder().encode(`wait ${i}`) }));
  const waiting = await idleClient.submit({ files });
  const docs = (await idleClient.jobDocuments(waiting.id, { limit: 1000 })).items;
  await page.goto(`${idle.server.url}/#/jobs/${waiting.id}?documents=unfinished`);
  await page.locator('.documents li').nth(99).waitFor({ timeout: WAIT_MS });
  await page.locator('#more-documents').click();
  await page.locator('.documents li').nth(199).waitFor({ timeout: WAIT_MS });

  // The first 150 leave the list: its first page (read again every 3 s) then holds all 100 left.
  for (const doc of docs.slice(0, 150)) await idleClient.cancelDocument(waiting.id, doc.id);
  await page.locator('#more-documents').waitFor({ state: 'detached', timeout: WAIT_MS });
  const names = await page.locator('.documents li .name').allTextContents();
  assert.equal(names.length, 100);
  assert.equal(names[0], 'wait-150.txt');

  // The rest leave too: the list says none is left, rather than keep them.
  for (const doc of docs.slice(150)) await idleClient.cancelDocument(waiting.id, doc.id);
  await page.locator('#documents-empty', { hasText: 'No document is queued or running.' }).waitFor({ timeout: WAIT_MS });
  assert.equal(await page.locator('.documents li').count(), 0);
});
