// The job list's refresh, in Chromium: more than a page of jobs created between two refreshes
// all show up, none skipped between the newest and those listed before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { ReamClient } from '../../src/client/index.ts';
import { useConsole } from '../support/console-browser.ts';

const WAIT_MS = 60_000;
const BEFORE = 5;
/** New jobs between two refreshes: more than the page of 100 a refresh reads first. */
const BURST = 150;

// No work: the jobs stay queued, so only their number changes.
const con = useConsole('dashboard-jobs-refresh', { ream: { work: false } });
let client: ReamClient;

con.before(() => {
  client = new ReamClient({ baseUrl: con.server.url });
});

const submit = (i: number) => client.submit({ files: [{ name: `n${i}.txt`, data: new TextEncoder().encode(`note ${i}`) }] });

/** Every job id the windowed list holds, scrolling it from top to bottom (typed by hand: no DOM types here). */
async function listedIds(page: Page): Promise<Set<string>> {
  const list = page.getByRole('region', { name: 'Job list' });
  const height = await list.evaluate((element: { scrollHeight: number }) => element.scrollHeight);
  const ids = new Set<string>();
  for (let top = 0; top <= height; top += 200) {
    await list.evaluate((element: { scrollTop: number }, y: number) => {
      element.scrollTop = y;
    }, top);
    await page.waitForTimeout(20);
    for (const id of await page.locator('#jobs li').evaluateAll((items) => items.map((item) => (item as unknown as { dataset: { jobId?: string } }).dataset.jobId ?? ''))) ids.add(id);
  }
  return ids;
}

void test('console: more than a page of new jobs between two refreshes are all listed', { timeout: 120_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  for (let i = 0; i < BEFORE; i++) await submit(i);
  await page.goto(`${con.server.url}/#/jobs`);
  await page.locator('p.count', { hasText: `${BEFORE} jobs` }).waitFor({ timeout: WAIT_MS });

  // The refreshes wait while the burst is made: they then all see it at once, as a refresh after a busy 5 s does.
  let release: () => void = () => undefined;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  await page.route('**/v1/jobs?*', async (route) => {
    await released;
    await route.continue();
  });
  for (let i = 0; i < BURST; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => submit(BEFORE + i + j)));
  release();

  const total = BEFORE + BURST;
  await page.locator('p.count', { hasText: new RegExp(`^${total}\\+? jobs$`) }).waitFor({ timeout: WAIT_MS });
  const all = (await client.listJobs({ limit: 500 })).items.map((job) => job.id);
  assert.equal(all.length, total);
  const ids = await listedIds(page);
  assert.deepEqual([...all].filter((id) => !ids.has(id)), [], 'every job of the server is in the list');
  assert.equal(ids.size, total);
});
