// The job list keeps the rows in view current, in Chromium: a job far down the list (past the
// first page a refresh reads) that moves on shows its new status without a reload, and leaves a
// list filtered by the status it had.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { ReamClient, type JobView } from '../../src/client/index.ts';
import { useConsole } from '../support/console-browser.ts';

const WAIT_MS = 30_000;
/** More jobs than the page of 100 a refresh reads. */
const JOBS = 130;

// No work: the jobs stay queued until the test cancels one.
const con = useConsole('dashboard-jobs-live-rows', { ream: { work: false } });
let client: ReamClient;
let jobs: JobView[];

con.before(async () => {
  client = new ReamClient({ baseUrl: con.server.url });
  jobs = [];
  for (let i = 0; i < JOBS; i += 10) {
    jobs.push(...(await Promise.all(Array.from({ length: 10 }, (_, j) => client.submit({ files: [{ name: `n${i + j}.txt`, data: new TextEncoder().encode(`note ${i + j}`) }] })))));
  }
});

/** Scrolls the list to its end until `count` rows were read, and shows the row of `jobId`. */
async function scrollToJob(page: Page, count: number, jobId: string): Promise<void> {
  const list = page.getByRole('region', { name: 'Job list' });
  await page.locator('p.count', { hasText: /jobs$/ }).waitFor({ timeout: WAIT_MS });
  const toEnd = (): Promise<void> => list.evaluate((element: { scrollTop: number; scrollHeight: number }) => {
    element.scrollTop = element.scrollHeight;
  });
  for (let tries = 0; tries < 50 && (await page.locator('p.count').textContent()) !== `${count} jobs`; tries++) {
    await toEnd();
    await page.waitForTimeout(100);
  }
  await toEnd();
  await page.locator(`#jobs li[data-job-id="${jobId}"]`).waitFor({ timeout: WAIT_MS });
}

void test('console: a job in view past the first page shows its new status without a reload', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const oldest = jobs[0];
  assert.ok(oldest);
  await page.goto(`${con.server.url}/#/jobs`);
  await scrollToJob(page, JOBS, oldest.id);
  const row = page.locator(`#jobs li[data-job-id="${oldest.id}"]`);
  assert.equal(await row.locator('.status').textContent(), 'queued');

  await client.cancel(oldest.id);
  // A refresh every 5 s: the row says so by the second one.
  await row.locator('.status', { hasText: /^cancelled$/ }).waitFor({ timeout: 12_000 });
});

void test('console: a job in view past the first page leaves a list filtered by the status it no longer has', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const queued = (await client.listJobs({ status: 'queued', limit: 500 })).items;
  const oldest = queued.at(-1);
  assert.ok(oldest);
  await page.goto(`${con.server.url}/#/jobs?status=queued`);
  await scrollToJob(page, queued.length, oldest.id);

  await client.cancel(oldest.id);
  await page.locator('p.count', { hasText: `${queued.length - 1} jobs` }).waitFor({ timeout: 12_000 });
  assert.equal(await page.locator(`#jobs li[data-job-id="${oldest.id}"]`).count(), 0, 'the cancelled job is no longer listed as queued');
});

void test('console: the unfinished jobs in view further down are read again in one request, not one each', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const oldest = jobs[0];
  assert.ok(oldest);
  await page.goto(`${con.server.url}/#/jobs`);
  await scrollToJob(page, JOBS, oldest.id);
  const unfinishedInView = await page.locator('#jobs li .status', { hasText: /^queued$/ }).count();
  assert.ok(unfinishedInView >= 10, `many unfinished jobs in view (${unfinishedInView})`);
  const reads: string[] = [];
  page.on('request', (request) => {
    const { pathname } = new URL(request.url());
    if (pathname.startsWith('/v1/jobs')) reads.push(pathname);
  });
  // Two refreshes (every 5 s).
  await page.waitForTimeout(10_500);
  const lists = reads.filter((path) => path === '/v1/jobs').length;
  assert.ok(lists >= 2, `refreshed (${lists} list reads)`);
  assert.deepEqual(reads.filter((path) => path !== '/v1/jobs'), [], 'no job read one by one');
  assert.ok(lists <= 2 * 2 + 1, `the first page and one page further down per refresh (${lists} list reads)`);
});
