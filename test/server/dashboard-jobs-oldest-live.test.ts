// The job list oldest first, in Chromium: jobs made after the list was read come last, where it
// ends, without a reload; once past a page of 100 and once on a list read in more than one page.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { ReamClient } from '../../src/client/index.ts';
import { useConsole } from '../support/console-browser.ts';

const WAIT_MS = 60_000;
/** One less than the page of 100 the console reads: two new jobs make the list more than a page. */
const BEFORE = 99;

// No work: the jobs stay queued, so only their number changes.
const con = useConsole('dashboard-jobs-oldest-live', { ream: { work: false } });
let client: ReamClient;

con.before(() => {
  client = new ReamClient({ baseUrl: con.server.url });
});

const submit = (i: number) => client.submit({ files: [{ name: `o${i}.txt`, data: new TextEncoder().encode(`oldest ${i}`) }] });

/** Scrolls the windowed list to its end, and answers the id of its last row. */
async function lastRow(page: Page): Promise<string> {
  const list = page.getByRole('region', { name: 'Job list' });
  await list.evaluate((element: { scrollTop: number; scrollHeight: number }) => {
    element.scrollTop = element.scrollHeight;
  });
  return (await page.locator('#jobs li').last().getAttribute('data-job-id')) ?? '';
}

void test('console: oldest first, new jobs show at the end of the list without a reload', { timeout: 300_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  for (let i = 0; i < BEFORE; i += 9) await Promise.all(Array.from({ length: Math.min(9, BEFORE - i) }, (_, j) => submit(i + j)));
  await page.goto(`${con.server.url}/#/jobs?sort=created`);
  await page.locator('p.count', { hasText: `${BEFORE} jobs` }).waitFor({ timeout: WAIT_MS });

  // Past a page: the list reads on when scrolled to its end.
  const [a, b] = [await submit(BEFORE), await submit(BEFORE + 1)];
  await page.locator('p.count', { hasText: `100 of ${BEFORE + 2} jobs` }).waitFor({ timeout: WAIT_MS });
  await lastRow(page);
  await page.locator('p.count', { hasText: `${BEFORE + 2} jobs` }).waitFor({ timeout: WAIT_MS });
  await page.locator(`#jobs li[data-job-id="${b.id}"]`).waitFor({ timeout: WAIT_MS });
  assert.equal(await lastRow(page), b.id, 'the newest job is the last row');
  assert.equal(await page.locator(`#jobs li[data-job-id="${a.id}"]`).count(), 1);

  // A list of two pages read to its end: its end is read again.
  const c = await submit(BEFORE + 2);
  await page.locator('p.count', { hasText: `${BEFORE + 3} jobs` }).waitFor({ timeout: WAIT_MS });
  await page.locator(`#jobs li[data-job-id="${c.id}"]`).waitFor({ timeout: WAIT_MS });
  assert.equal(await lastRow(page), c.id);
  const all = (await client.listJobs({ sort: 'created', limit: 500 })).items.map((job) => job.id);
  assert.equal(all.at(-1), c.id);
});
