// The job list's search and order, in Chromium: typing narrows the list by id prefix, the search
// and the order are in the link (a reload keeps them), and oldest first turns the list around.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { ReamClient, type JobView } from '../../src/client/index.ts';
import { assertAccessible, useConsole } from '../support/console-browser.ts';

const WAIT_MS = 30_000;

// No work: the jobs stay queued, so the list is only what the test made.
const con = useConsole('dashboard-jobs-search', { ream: { work: false } });
let jobs: JobView[];
let client: ReamClient;

con.before(async () => {
  client = new ReamClient({ baseUrl: con.server.url });
  jobs = [];
  for (const name of ['first', 'second', 'third']) jobs.push(await client.submit({ files: [{ name: `${name}.txt`, data: new TextEncoder().encode(name) }] }));
});

const listed = async (page: Page): Promise<string[]> => Promise.all((await page.locator('#jobs li').all()).map(async (row) => (await row.getAttribute('data-job-id')) ?? ''));

void test('console: a search narrows the job list, stays in the link, and survives a reload', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const [, second] = jobs;
  assert.ok(second);
  await page.goto(`${con.server.url}/#/jobs`);
  await page.locator('#jobs li').nth(2).waitFor({ timeout: WAIT_MS });
  // `job_` and the start of the uuid: what a user copies from a log, in capitals.
  const prefix = second.id.slice(0, 14).toUpperCase();
  await page.getByRole('searchbox', { name: 'Search' }).fill(prefix);
  await page.waitForURL((url) => url.hash === `#/jobs?q=${encodeURIComponent(prefix)}`, { timeout: WAIT_MS });
  await page.locator(`#jobs li[data-job-id="${second.id}"]`).waitFor({ timeout: WAIT_MS });
  await page.locator('#jobs li').nth(1).waitFor({ state: 'detached', timeout: WAIT_MS });
  assert.deepEqual(await listed(page), [second.id]);
  await assertAccessible(page, 'job list searched');

  await page.reload();
  await page.locator(`#jobs li[data-job-id="${second.id}"]`).waitFor({ timeout: WAIT_MS });
  assert.equal(await page.getByRole('searchbox', { name: 'Search' }).inputValue(), prefix, 'the search box shows the search of the link');
  assert.deepEqual(await listed(page), [second.id]);

  await page.getByRole('searchbox', { name: 'Search' }).fill('no such job');
  await page.locator('#jobs-empty', { hasText: 'No job matches this filter.' }).waitFor({ timeout: WAIT_MS });
  await page.getByRole('searchbox', { name: 'Search' }).fill('');
  await page.waitForURL((url) => url.hash === '#/jobs', { timeout: WAIT_MS });
  await page.locator('#jobs li').nth(2).waitFor({ timeout: WAIT_MS });
});

void test('console: the job list oldest first, kept in the link', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  // The server's orders (jobs made in one millisecond go by id).
  const newest = (await client.listJobs()).items.map((job) => job.id);
  const ids = (await client.listJobs({ sort: 'created' })).items.map((job) => job.id);
  assert.deepEqual(ids, [...newest].reverse());
  await page.goto(`${con.server.url}/#/jobs`);
  await page.locator('#jobs li').nth(2).waitFor({ timeout: WAIT_MS });
  assert.deepEqual(await listed(page), newest, 'newest first to begin with');
  await page.getByLabel('Order').selectOption({ label: 'oldest first' });
  await page.waitForURL((url) => url.hash === '#/jobs?sort=created', { timeout: WAIT_MS });
  await page.locator(`#jobs li:first-child[data-job-id="${ids[0] ?? ''}"]`).waitFor({ timeout: WAIT_MS });
  assert.deepEqual(await listed(page), ids);
  await page.reload();
  await page.locator(`#jobs li:first-child[data-job-id="${ids[0] ?? ''}"]`).waitFor({ timeout: WAIT_MS });
  assert.equal(await page.getByLabel('Order').inputValue(), 'created');
});
