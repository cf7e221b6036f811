// The Operate page's recent errors, in Chromium: grouped by code from GET /v1/errors, a tenant
// sees its own and an admin everyone's; a sample's file name that is markup stays text, and its
// link opens the failed document. The queues by priority: a task nobody takes shows with its
// priority and an age that grows.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { ReamClient, type JobView } from '../../src/client/index.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { assertAccessible, CHROMIUM, launchChromium, openPage } from '../support/console-browser.ts';
import { requireOrSkip } from '../support/env.ts';
import { makePdf } from '../support/make-pdf.ts';
import { issueTenantKeys, type TenantKeys } from '../support/tenant-keys.ts';

const WAIT_MS = 30_000;
const HOSTILE_NAME = '<img src=x onerror=alert(1)>.pdf';

let dir: string;
let browser: Browser | undefined;
let ream: Ream;
let server: RunningServer;
let keys: TenantKeys;
let aJob: JobView;
let bJob: JobView;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-dashboard-operate-'));
  browser = await launchChromium();
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, metricsHistory: { intervalMs: 1_000 } });
  keys = await issueTenantKeys(ream);
  const a = new ReamClient({ baseUrl: server.url, apiKey: keys.a });
  const b = new ReamClient({ baseUrl: server.url, apiKey: keys.b });
  aJob = await a.submit({ files: [{ name: HOSTILE_NAME, data: new Uint8Array() }] });
  bJob = await b.submit({ options: { maxPages: 1 }, files: [{ name: 'b-long.pdf', data: await makePdf({ pages: ['one', 'two'] }) }, { name: 'b-empty.pdf', data: new Uint8Array() }] });
  await a.wait(aJob.id);
  await b.wait(bJob.id);
});
after(async () => {
  await browser?.close();
  await server?.close();
  await ream?.close();
  await rm(dir, { recursive: true, force: true });
});

async function signIn(page: Page, key: string, url = server.url): Promise<void> {
  await page.goto(`${url}/#/operate`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Operate' }).click();
}

const rowText = async (page: Page, code: string): Promise<string> => (await page.locator(`#error-groups tr[data-code="${code}"]`).textContent({ timeout: WAIT_MS })) ?? '';

describe('console: recent errors on Operate, and the admin\'s tenant picker', { timeout: 120_000 }, () => {
  test('an admin picks whose jobs the list shows: its own, every tenant\'s, or one; a tenant has no picker', async (t) => {
    if (!requireOrSkip(t, browser !== undefined, `Chromium at ${CHROMIUM}`)) return;
    const page = await openPage(browser, t);
    await signIn(page, keys.admin);
    await page.getByRole('link', { name: 'Jobs', exact: true }).click();
    const picker = page.getByLabel('Tenant', { exact: true });
    await picker.waitFor({ timeout: WAIT_MS });
    await page.locator('#jobs-empty').waitFor({ timeout: WAIT_MS });
    await picker.selectOption('*');
    await page.locator(`#jobs li[data-job-id="${aJob.id}"]`).waitFor({ timeout: WAIT_MS });
    await page.locator(`#jobs li[data-job-id="${bJob.id}"]`).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator(`#jobs li[data-job-id="${bJob.id}"] .tenant`).textContent(), 'tenant-b');
    await assertAccessible(page, 'jobs of every tenant');
    await picker.selectOption('tenant-b');
    await page.locator(`#jobs li[data-job-id="${aJob.id}"]`).waitFor({ state: 'detached', timeout: WAIT_MS });
    // The list is read anew for the pick: its rows go, then tenant-b's come.
    await page.locator(`#jobs li[data-job-id="${bJob.id}"]`).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('#jobs li').count(), 1, 'tenant-b\'s one job');
    // The pick is in the link: a reload keeps it.
    assert.match(page.url(), /#\/jobs\?tenant=tenant-b$/);
    await page.reload();
    await page.locator(`#jobs li[data-job-id="${bJob.id}"]`).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.getByLabel('Tenant', { exact: true }).inputValue(), 'tenant-b');
    assert.equal(await page.locator(`#jobs li[data-job-id="${aJob.id}"]`).count(), 0);

    const tenant = await openPage(browser, t);
    await signIn(tenant, keys.a);
    await tenant.getByRole('link', { name: 'Jobs', exact: true }).click();
    await tenant.locator(`#jobs li[data-job-id="${aJob.id}"]`).waitFor({ timeout: WAIT_MS });
    assert.equal(await tenant.getByLabel('Tenant', { exact: true }).count(), 0, 'no picker for a tenant');
  });


  test('an admin sees every tenant\'s failures by code; a tenant only its own, and the sample links to its document', async (t) => {
    if (!requireOrSkip(t, browser !== undefined, `Chromium at ${CHROMIUM}`)) return;
    const page = await openPage(browser, t);
    await signIn(page, keys.admin);
    await page.locator('#error-groups tr[data-code="empty_file"]').waitFor({ timeout: WAIT_MS });
    assert.match(await rowText(page, 'empty_file'), /^empty_file2/);
    assert.match(await rowText(page, 'too_many_pages'), /^too_many_pages1.*b-long\.pdf: /);
    await assertAccessible(page, 'operate with errors');

    const tenant = await openPage(browser, t);
    await signIn(tenant, keys.a);
    const row = tenant.locator('#error-groups tr[data-code="empty_file"]');
    await row.waitFor({ timeout: WAIT_MS });
    assert.equal(await tenant.locator('#error-groups tbody tr').count(), 1, 'only its own code');
    assert.match(await rowText(tenant, 'empty_file'), /^empty_file1/);
    const link = row.getByRole('link', { name: HOSTILE_NAME });
    assert.equal(await link.textContent(), HOSTILE_NAME, 'the markup name is text');
    assert.equal(await tenant.locator('#error-groups img').count(), 0, 'no element made of it');
    await link.click();
    await tenant.getByRole('heading', { name: HOSTILE_NAME }).waitFor({ timeout: WAIT_MS });
    assert.match(tenant.url(), new RegExp(`#/jobs/${aJob.id}/documents/`));
  });

  test('an admin sees the queues by priority: a task nobody takes, its priority and an age that grows', async (t) => {
    if (!requireOrSkip(t, browser !== undefined, `Chromium at ${CHROMIUM}`)) return;
    // A deployment of its own without workers, so the task stays queued.
    const idle = await createReam({ dataDir: join(dir, 'idle'), threads: 1, work: false });
    const idleServer = await startServer({ ream: idle, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, metricsHistory: false });
    try {
      const idleKeys = await issueTenantKeys(idle);
      await new ReamClient({ baseUrl: idleServer.url, apiKey: idleKeys.admin }).submit({ priority: 'critical', files: [{ name: 'waits.pdf', data: await makePdf({ pages: ['waits'] }) }] });
      const page = await openPage(browser, t);
      await signIn(page, idleKeys.admin, idleServer.url);
      const row = page.locator('#queues tbody tr[data-priority="critical"]');
      await row.waitFor({ timeout: WAIT_MS });
      assert.equal(await row.locator('.queue-priority').textContent(), 'critical');
      assert.equal(await row.locator('.queue-queued').textContent(), '1');
      assert.equal(await row.locator('.queue-running').textContent(), '0');
      // Refreshed with the page's other reads (every 3 s): the age shown moves past zero.
      await page.locator('#queues tr[data-priority="critical"] .queue-age', { hasText: /^([1-9]\d* s|\d+ min \d+ s)$/ }).waitFor({ timeout: WAIT_MS });
      await assertAccessible(page, 'operate with queues');

      const tenant = await openPage(browser, t);
      await signIn(tenant, idleKeys.a, idleServer.url);
      await tenant.locator('#operate-forbidden').waitFor({ timeout: WAIT_MS });
      assert.equal(await tenant.locator('#queues').count(), 0, 'a tenant sees no queues');
    } finally {
      await idleServer.close();
      await idle.close();
    }
  });
});
