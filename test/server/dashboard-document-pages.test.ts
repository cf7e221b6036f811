// The document page of a result that keeps its pages out (`pagesInResult: false`), in Chromium:
// each page's text is read from the job's pages, not shown as "No text.".
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { assertAccessible, useConsole } from '../support/console-browser.ts';
import { makePdf } from '../support/make-pdf.ts';

const WAIT_MS = 60_000;

const con = useConsole('dashboard-document-pages');

void test('console: a document whose result omits its pages shows each page\'s text', { timeout: 120_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const client = new ReamClient({ baseUrl: con.server.url });
  const data = await makePdf({ pages: ['First page words', 'Second page words', 'Third page words'] });
  const job = await client.submit({ files: [{ name: 'kept-out.pdf', data }], options: { pagesInResult: false } });
  await client.wait(job.id);
  const [document] = (await client.jobDocuments(job.id)).items;
  assert.ok(document);
  assert.equal((await client.documentResult(job.id, document.id)).pagesOmitted, true, 'the result holds no pages');

  await page.goto(`${con.server.url}/#/jobs/${encodeURIComponent(job.id)}/documents/${encodeURIComponent(document.id)}?page=2`);
  await page.locator('pre.page-text', { hasText: 'Second page words' }).waitFor({ timeout: WAIT_MS });
  assert.equal(await page.getByText('No text.').count(), 0);
  assert.deepEqual(await page.locator('#page-select option').allTextContents(), ['1', '2', '3'], 'every page can be picked');
  await page.locator('#page-select').selectOption('3');
  await page.locator('pre.page-text', { hasText: 'Third page words' }).waitFor({ timeout: WAIT_MS });
  await assertAccessible(page, 'document page of a result without its pages');
});
