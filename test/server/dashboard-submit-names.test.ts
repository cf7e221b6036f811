// The New job page's file list, in Chromium: a name with bidi or zero-width characters is shown
// as the job will name it (the server takes them out), never with its extension reversed.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { ReamClient } from '../../src/client/index.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { CHROMIUM, launchChromium, openPage } from '../support/console-browser.ts';
import { requireOrSkip } from '../support/env.ts';

const WAIT_MS = 60_000;

let dir: string;
let browser: Browser | undefined;
let ream: Ream;
let server: RunningServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-dashboard-submit-names-'));
  browser = await launchChromium();
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
  server = await startServer({ ream, host: '127.0.0.1', port: 0 });
});
after(async () => {
  await browser?.close();
  await server?.close();
  await ream?.close();
  await rm(dir, { recursive: true, force: true });
});

void test('console: a picked file named with a right-to-left override is listed as the job names it', { timeout: 120_000 }, async (t) => {
  if (!requireOrSkip(t, browser !== undefined, `Chromium at ${CHROMIUM}`)) return;
  const page = await openPage(browser, t);
  await page.goto(`${server.url}/#/submit`);
  // Shown as is, U+202E would read "reporttxt.pdf"; U+200B is invisible.
  await page.locator('#files').setInputFiles([{ name: 'report\u202Efdp.txt', mimeType: 'text/plain', buffer: Buffer.from('a note') }, { name: 'zero\u200Bwidth.txt', mimeType: 'text/plain', buffer: Buffer.from('another note') }]);
  assert.deepEqual(await page.locator('.uploads .name').allTextContents(), ['reportfdp.txt', 'zerowidth.txt']);
  await page.getByRole('button', { name: 'Remove reportfdp.txt' }).waitFor({ timeout: WAIT_MS });

  await page.getByRole('button', { name: 'Start job' }).click({ timeout: WAIT_MS });
  await page.waitForURL(/#\/jobs\/job_/, { timeout: WAIT_MS });
  const jobId = decodeURIComponent(new URL(page.url()).hash.replace('#/jobs/', ''));
  const names = (await new ReamClient({ baseUrl: server.url }).jobDocuments(jobId)).items.map((doc) => doc.name);
  assert.deepEqual(names.sort(), ['reportfdp.txt', 'zerowidth.txt'], 'the names the list showed');
});
