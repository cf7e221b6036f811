// The New job page, in Chromium: it takes as many files as one job holds (1,000) and says so of
// the rest, rather than upload them all for a job the server then refuses.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { useConsole } from '../support/console-browser.ts';

const WAIT_MS = 60_000;

const con = useConsole('dashboard-submit-limit', { ream: { work: false } });

const note = (i: number) => ({ name: `n${String(i).padStart(4, '0')}.txt`, mimeType: 'text/plain', buffer: Buffer.from(`note ${i}`) });

void test('console: a job takes at most 1,000 files; those past them are not added, and the page says so', { timeout: 120_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  // What the uploads do is not the point here: they wait, so none is stored while the list is checked.
  await page.route('**/v1/uploads**', () => undefined);
  await page.goto(`${con.server.url}/#/submit`);
  await page.locator('#files').setInputFiles(Array.from({ length: 1002 }, (_, i) => note(i)));
  await page.locator('#upload-notice', { hasText: 'A job takes at most 1,000 files: 2 files past them were not added' }).waitFor({ timeout: WAIT_MS });
  assert.equal(await page.locator('.uploads > li').count(), 1000);
  assert.equal(await page.locator('.uploads > li .name').last().textContent(), 'n0999.txt', 'the first 1,000, in the order chosen');

  await page.locator('#files').setInputFiles([note(5000)]);
  await page.locator('#upload-notice', { hasText: '1 file past them was not added' }).waitFor({ timeout: WAIT_MS });
  assert.equal(await page.locator('.uploads > li').count(), 1000, 'a full list takes no more');
  // Once one is removed, there is room for one again.
  await page.getByRole('button', { name: 'Remove n0000.txt' }).click();
  await page.locator('#files').setInputFiles([note(5001)]);
  await page.locator('.uploads > li .name', { hasText: 'n5001.txt' }).waitFor({ timeout: WAIT_MS });
  assert.equal(await page.locator('.uploads > li').count(), 1000);
  assert.equal(await page.locator('#upload-notice').textContent(), '');
});
