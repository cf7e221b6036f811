// The document page of a result that keeps its pages out (`pagesInResult: false`), in Chromium:
// each page's text is read from the job's pages, not shown as "No text.".
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { ReamClient } from '../../src/client/index.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { assertAccessible, CHROMIUM, launchChromium, openPage } from '../support/console-browser.ts';
import { requireOrSkip } from '../support/env.ts';
import { makePdf } from '../support/make-pdf.ts';

const WAIT_MS = 60_000;

let dir: string;
let browser: Browser | undefined;
let ream: Ream;
let server: RunningServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-dashboard-document-pages-'));
  browser = await launchChromium();
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0 });
});
after(async () => {
  await browser?.close();
  await server?.close();
  await ream?.close();
  await rm(dir, { recursive: true, force: true });
});

void test('console: a document whose result omits its pages shows each page\'s text', { timeout: 120_000 }, async (t) => {
  if (!requireOrSkip(t, browser !== undefined, `Chromium at ${CHROMIUM}`)) return;
  const client = new ReamClient({ baseUrl: server.url });
  const data = await makePdf({ pages: ['First page words', 'Second page words', 'Third page words'] });
  const job = await client.submit({ files: [{ name: 'kept-out.pdf', data }], options: { pagesInResult: false } });
  await client.wait(job.id);
  const [document] = (await client.jobDocuments(job.id)).items;
  assert.ok(document);
  assert.equal((await client.documentResult(job.id, document.id)).pagesOmitted, true, 'the result holds no pages');

  const page = await openPage(browser, t);
  await page.goto(`${server.url}/#/jobs/${encodeURIComponent(job.id)}/documents/${encodeURIComponent(document.id)}?page=2`);
  await page.locator('pre.page-text', { hasText: 'Second page words' }).waitFor({ timeout: WAIT_MS });
  assert.equal(await page.getByText('No text.').count(), 0);
  assert.deepEqual(await page.locator('#page-select option').allTextContents(), ['1', '2', '3'], 'every page can be picked');
  await page.locator('#page-select').selectOption('3');
  await page.locator('pre.page-text', { hasText: 'Third page words' }).waitFor({ timeout: WAIT_MS });
  await assertAccessible(page, 'document page of a result without its pages');
});
