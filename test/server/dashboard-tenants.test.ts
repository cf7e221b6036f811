// The Operate page's tenants, in Chromium: an admin sees every tenant that ran a job (credits or
// none) with its usage, and grants credits from the form; a tenant sees no tenants section. The
// sign-in screen names the JWT issuer the server takes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { ReamClient } from '../../src/client/index.ts';
import { assertAccessible, openPage, useConsole } from '../support/console-browser.ts';
import { makePdf } from '../support/make-pdf.ts';
import { issueTenantKeys, type TenantKeys } from '../support/tenant-keys.ts';

const WAIT_MS = 30_000;

let keys: TenantKeys;

const con = useConsole('dashboard-tenants', { server: { auth: { mode: 'on', jwtSecret: 'a-secret-long-enough-for-hs256-signing', jwtIssuer: 'https://login.example.test/' } } });

con.before(async () => {
  keys = await issueTenantKeys(con.ream);
  const a = new ReamClient({ baseUrl: con.server.url, apiKey: keys.a });
  const job = await a.submit({ files: [{ name: 'three.pdf', data: await makePdf({ pages: ['one', 'two', 'three'] }) }] });
  await a.wait(job.id);
});

async function signIn(page: Page, key: string): Promise<void> {
  await page.goto(`${con.server.url}/#/operate`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('link', { name: 'Operate' }).click();
}

void test('console: an admin sees each tenant\'s usage and grants it credits; a tenant sees no tenants', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  await page.goto(`${con.server.url}/`);
  await page.locator('#signin-methods', { hasText: 'or a JWT issued by https://login.example.test/' }).waitFor({ timeout: WAIT_MS });
  await page.getByLabel('API key or JWT', { exact: true }).waitFor({ timeout: WAIT_MS });
  await signIn(page, keys.admin);
  const row = page.locator('#tenants tr[data-tenant="tenant-a"]');
  await row.waitFor({ timeout: WAIT_MS });
  const cells = async (): Promise<string[]> => row.locator('td').allTextContents();
  const before = await cells();
  assert.deepEqual(before.slice(0, 4), ['tenant-a', '0', '3', '0'], 'a tenant known only by its job: no credits, 3 pages today, nothing unfinished');
  assert.match(before[4] ?? '', /^\d+(\.\d)? (B|kB)$/, 'its stored bytes');
  await assertAccessible(page, 'operate with tenants');

  await page.getByLabel('Grant to tenant', { exact: true }).fill('tenant-a');
  await page.getByLabel('Credits', { exact: true }).fill('250');
  await page.getByLabel('Reason', { exact: true }).fill('trial');
  await page.getByRole('button', { name: 'Grant' }).click();
  await page.locator('#grant-result', { hasText: 'tenant-a now has 250 credits.' }).waitFor({ timeout: WAIT_MS });
  await row.locator('td:nth-child(2)', { hasText: /^250$/ }).waitFor({ timeout: WAIT_MS });
  const admin = new ReamClient({ baseUrl: con.server.url, apiKey: keys.admin });
  assert.equal((await admin.tenant('tenant-a')).balance, 250, 'the grant is the server\'s, not only the page\'s');

  // A tenant nobody has heard of (a typo?) is granted only when asked twice.
  await page.getByLabel('Grant to tenant', { exact: true }).fill('tenant-typo');
  await page.getByLabel('Credits', { exact: true }).fill('5');
  await page.getByLabel('Reason', { exact: true }).fill('trial');
  await page.getByRole('button', { name: 'Grant' }).click();
  await page.locator('#grant-result', { hasText: 'No tenant is named tenant-typo yet' }).waitFor({ timeout: WAIT_MS });
  assert.equal((await admin.tenant('tenant-typo')).balance, 0, 'not granted on the first press');
  await page.getByRole('button', { name: 'Grant' }).click();
  await page.locator('#grant-result', { hasText: 'tenant-typo now has 5 credits.' }).waitFor({ timeout: WAIT_MS });
  await page.getByLabel('Grant to tenant', { exact: true }).fill('tenant-a');

  await page.getByLabel('Credits', { exact: true }).fill('5');
  await page.getByLabel('Reason', { exact: true }).fill('   ');
  await page.getByRole('button', { name: 'Grant' }).click();
  await page.locator('#grant-error', { hasText: 'Grant refused' }).waitFor({ timeout: WAIT_MS });
  assert.equal((await admin.tenant('tenant-a')).balance, 250, 'a refused grant changes nothing');

  // Quotas: set from the form, shown in the table, and an empty field is no limit.
  await page.getByLabel('Quotas of tenant', { exact: true }).fill('tenant-a');
  await page.getByLabel('Pages per day', { exact: true }).fill('500');
  await page.getByLabel('Unfinished jobs', { exact: true }).fill('2');
  await page.getByLabel('Stored MiB', { exact: true }).fill('');
  await page.getByRole('button', { name: 'Set quotas' }).click();
  await page.locator('#quota-result', { hasText: 'Quotas of tenant-a set.' }).waitFor({ timeout: WAIT_MS });
  await row.locator('td:nth-child(3)', { hasText: /^3 \/ 500$/ }).waitFor({ timeout: WAIT_MS });
  assert.deepEqual((await admin.tenant('tenant-a')).quotas, { pagesPerDay: 500, concurrentJobs: 2 }, 'set on the server; stored bytes unlimited');
  await page.getByLabel('Pages per day', { exact: true }).fill('-1');
  await page.getByRole('button', { name: 'Set quotas' }).click();
  assert.equal(await page.locator('#quota-pages:invalid').count(), 1, 'the browser holds the form: a quota is 0 or more');
  assert.deepEqual((await admin.tenant('tenant-a')).quotas, { pagesPerDay: 500, concurrentJobs: 2 }, 'a refused form changes nothing');
  await assertAccessible(page, 'tenants with the quotas form');

  // A storage quota that is no whole MiB is shown with decimals, never 0, and comes back to the
  // server unchanged when the admin changes only another quota.
  await admin.setQuotas('tenant-a', { pagesPerDay: 500, concurrentJobs: 2, storageBytes: 300_000 });
  await page.getByLabel('Credits', { exact: true }).fill('1');
  await page.getByLabel('Reason', { exact: true }).fill('refresh');
  await page.getByRole('button', { name: 'Grant' }).click(); // a grant reloads the tenants
  await row.locator('td:nth-child(5)', { hasText: /\/ 293\.0 kB$/ }).waitFor({ timeout: WAIT_MS });
  await page.getByLabel('Quotas of tenant', { exact: true }).fill('tenant-a');
  assert.equal(await page.getByLabel('Stored MiB', { exact: true }).inputValue(), '0.2861');
  await page.getByLabel('Pages per day', { exact: true }).fill('600');
  await page.getByRole('button', { name: 'Set quotas' }).click();
  await row.locator('td:nth-child(3)', { hasText: /^3 \/ 600$/ }).waitFor({ timeout: WAIT_MS });
  assert.deepEqual((await admin.tenant('tenant-a')).quotas, { pagesPerDay: 600, concurrentJobs: 2, storageBytes: 300_000 }, 'the storage quota untouched');
  await page.getByLabel('Stored MiB', { exact: true }).fill('1.5');
  await page.getByRole('button', { name: 'Set quotas' }).click();
  await row.locator('td:nth-child(5)', { hasText: /\/ 1\.5 MB$/ }).waitFor({ timeout: WAIT_MS });
  assert.equal((await admin.tenant('tenant-a')).quotas.storageBytes, 1.5 * 1024 * 1024, 'MiB with decimals');
  // After a save the field holds what was saved: 0 typed now means 0, not the quota first shown.
  await page.getByLabel('Stored MiB', { exact: true }).fill('0');
  await page.getByRole('button', { name: 'Set quotas' }).click();
  await row.locator('td:nth-child(5)', { hasText: /\/ 0 B$/ }).waitFor({ timeout: WAIT_MS });
  assert.equal((await admin.tenant('tenant-a')).quotas.storageBytes, 0);

  const tenant = await openPage(con.browser, t);
  await signIn(tenant, keys.b);
  await tenant.locator('#operate-forbidden').waitFor({ timeout: WAIT_MS });
  assert.equal(await tenant.locator('#tenants, #tenants-heading').count(), 0, 'no tenants section for a tenant');
});
