// The job list's refresh, in Chromium: more than a page of jobs created between two refreshes
// all show up, none skipped between the newest and those listed before.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ReamClient } from '../../src/client/index.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { CHROMIUM, launchChromium, openPage } from '../support/console-browser.ts';
import { requireOrSkip } from '../support/env.ts';

const WAIT_MS = 60_000;
const BEFORE = 5;
/** New jobs between two refreshes: more than the page of 100 a refresh reads first. */
const BURST = 150;

let dir: string;
let browser: Browser | undefined;
let ream: Ream;
let server: RunningServer;
let client: ReamClient;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-dashboard-jobs-refresh-'));
  browser = await launchChromium();
  // No work: the jobs stay queued, so only their number changes.
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
  server = await startServer({ ream, host: '127.0.0.1', port: 0 });
  client = new ReamClient({ baseUrl: server.url });
});
after(async () => {
  await browser?.close();
  await server?.close();
  await ream?.close();
  await rm(dir, { recursive: true, force: true });
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
  if (!requireOrSkip(t, browser !== undefined, `Chromium at ${CHROMIUM}`)) return;
  for (let i = 0; i < BEFORE; i++) await submit(i);
  const page = await openPage(browser, t);
  await page.goto(`${server.url}/#/jobs`);
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
