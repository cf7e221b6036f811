// The New job page's file list, in Chromium: a name with bidi or zero-width characters is shown
// as the job will name it (the server takes them out), never with its extension reversed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { useConsole } from '../support/console-browser.ts';

const WAIT_MS = 60_000;

const con = useConsole('dashboard-submit-names', { ream: { work: false } });

void test('console: a picked file named with a right-to-left override is listed as the job names it', { timeout: 120_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  await page.goto(`${con.server.url}/#/submit`);
  // Shown as is, U+202E would read "reporttxt.pdf"; U+200B is invisible.
  await page.locator('#files').setInputFiles([{ name: 'report\u202Efdp.txt', mimeType: 'text/plain', buffer: Buffer.from('a note') }, { name: 'zero\u200Bwidth.txt', mimeType: 'text/plain', buffer: Buffer.from('another note') }]);
  assert.deepEqual(await page.locator('.uploads .name').allTextContents(), ['reportfdp.txt', 'zerowidth.txt']);
  await page.getByRole('button', { name: 'Remove reportfdp.txt' }).waitFor({ timeout: WAIT_MS });

  await page.getByRole('button', { name: 'Start job' }).click({ timeout: WAIT_MS });
  await page.waitForURL(/#\/jobs\/job_/, { timeout: WAIT_MS });
  const jobId = decodeURIComponent(new URL(page.url()).hash.replace('#/jobs/', ''));
  const names = (await new ReamClient({ baseUrl: con.server.url }).jobDocuments(jobId)).items.map((doc) => doc.name);
  assert.deepEqual(names.sort(), ['reportfdp.txt', 'zerowidth.txt'], 'the names the list showed');
});
