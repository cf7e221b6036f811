// The Operate page's recent errors, in Chromium: grouped by code from GET /v1/errors, a tenant
// sees its own and an admin everyone's; a sample's file name that is markup stays text, and its
// link opens the failed document. The queues by priority: a task nobody takes shows with its
// priority and an age that grows.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { ReamClient, type JobView } from '../../src/client/index.ts';
import { assertAccessible, openPage, useConsole } from '../support/console-browser.ts';
import { makePdf } from '../support/make-pdf.ts';
import { issueTenantKeys, type TenantKeys } from '../support/tenant-keys.ts';

const WAIT_MS = 30_000;
const HOSTILE_NAME = '<img src=x onerror=alert(1)>.pdf';

let keys: TenantKeys;
let aJob: JobView;
let bJob: JobView;

const con = useConsole('dashboard-operate', { server: { auth: { mode: 'on' }, metricsHistory: { intervalMs: 1_000 } } });

con.before(async () => {
  keys = await issueTenantKeys(con.ream);
  const a = new ReamClient({ baseUrl: con.server.url, apiKey: keys.a });
  const b = new ReamClient({ baseUrl: con.server.url, apiKey: keys.b });
  aJob = await a.submit({ files: [{ name: HOSTILE_NAME, data: new Uint8Array() }] });
  bJob = await b.submit({ options: { maxPages: 1 }, files: [{ name: 'b-long.pdf', data: await makePdf({ pages: ['one', 'two'] }) }, { name: 'b-empty.pdf', data: new Uint8Array() }] });
  await a.wait(aJob.id);
  await b.wait(bJob.id);
});

async function signIn(page: Page, key: string, url = con.server.url): Promise<void> {
  await page.goto(`${url}/#/operate`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Operate' }).click();
}

const rowText = async (page: Page, code: string): Promise<string> => (await page.locator(`#error-groups tr[data-code="${code}"]`).textContent({ timeout: WAIT_MS })) ?? '';

describe('console: recent errors on Operate, and the admin\'s tenant picker', { timeout: 120_000 }, () => {
  test('an admin picks whose jobs the list shows: its own, every tenant\'s, or one; a tenant has no picker', async (t) => {
    const page = await con.page(t);
    if (!page) return;
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

    const tenant = await openPage(con.browser, t);
    await signIn(tenant, keys.a);
    await tenant.getByRole('link', { name: 'Jobs', exact: true }).click();
    await tenant.locator(`#jobs li[data-job-id="${aJob.id}"]`).waitFor({ timeout: WAIT_MS });
    assert.equal(await tenant.getByLabel('Tenant', { exact: true }).count(), 0, 'no picker for a tenant');
  });


  test('an admin sees every tenant\'s failures by code; a tenant only its own, and the sample links to its document', async (t) => {
    const page = await con.page(t);
    if (!page) return;
    await signIn(page, keys.admin);
    await page.locator('#error-groups tr[data-code="empty_file"]').waitFor({ timeout: WAIT_MS });
    assert.match(await rowText(page, 'empty_file'), /^empty_file2/);
    assert.match(await rowText(page, 'too_many_pages'), /^too_many_pages1.*b-long\.pdf: /);
    await assertAccessible(page, 'operate with errors');

    const tenant = await openPage(con.browser, t);
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
    const page = await con.page(t);
    if (!page) return;
    // A deployment of its own without workers, so the task stays queued.
    const { ream: idle, server: idleServer } = await con.serve('idle', { work: false }, { auth: { mode: 'on' }, metricsHistory: false });
    const idleKeys = await issueTenantKeys(idle);
    await new ReamClient({ baseUrl: idleServer.url, apiKey: idleKeys.admin }).submit({ priority: 'critical', files: [{ name: 'waits.pdf', data: await makePdf({ pages: ['waits'] }) }] });
    await signIn(page, idleKeys.admin, idleServer.url);
    const row = page.locator('#queues tbody tr[data-priority="critical"]');
    await row.waitFor({ timeout: WAIT_MS });
    assert.equal(await row.locator('.queue-priority').textContent(), 'critical');
    assert.equal(await row.locator('.queue-queued').textContent(), '1');
    assert.equal(await row.locator('.queue-running').textContent(), '0');
    // Refreshed with the page's other reads (every 3 s): the age shown moves past zero.
    await page.locator('#queues tr[data-priority="critical"] .queue-age', { hasText: /^([1-9]\d* s|\d+ min \d+ s)$/ }).waitFor({ timeout: WAIT_MS });
    await assertAccessible(page, 'operate with queues');

    const tenant = await openPage(con.browser, t);
    await signIn(tenant, idleKeys.a, idleServer.url);
    await tenant.locator('#operate-forbidden').waitFor({ timeout: WAIT_MS });
    assert.equal(await tenant.locator('#queues').count(), 0, 'a tenant sees no queues');
  });
});
