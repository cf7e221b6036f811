// The New job page, in Chromium: files are uploaded as soon as they are picked and the server
// counts their pages, so the estimate shows the counted total (and its credits) before the job
// is started; the job then reserves exactly the credits shown.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { DEFAULT_TENANT } from '../../src/store/port.ts';
import { assertAccessible, useConsole } from '../support/console-browser.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';

const WAIT_MS = 30_000;


// No worker: the job stays queued with its reservation, nothing settles it meanwhile.
const con = useConsole('dashboard-estimate', { ream: { work: false, credits: { prices: { page: 3 } } } });

con.before(async () => {
  await con.ream.tenants.grantCredits({ tenantId: DEFAULT_TENANT, amount: 100, reason: 'test', by: { subject: 'test', role: 'admin', ip: null, status: 0 } });
});

void test('console: two PDFs picked show their counted pages and credits before the job starts; the job reserves the credits shown', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const estimates: string[] = [];
  page.on('request', (request) => {
    if (request.url().endsWith('/v1/jobs/estimate')) estimates.push(request.postData() ?? '');
  });
  await page.goto(`${con.server.url}/#/submit`);
  await page.getByLabel('chunkPages', { exact: true }).waitFor({ timeout: WAIT_MS }); // the schemas are in
  await page.locator('#files').setInputFiles([
    { name: 'four.pdf', mimeType: 'application/pdf', buffer: Buffer.from(await makePdf({ pages: numberedPages('F', 4) })) },
    { name: 'seven.pdf', mimeType: 'application/pdf', buffer: Buffer.from(await makePdf({ pages: numberedPages('S', 7) })) },
  ]);

  // 11 pages counted by the server at 3 credits a page; nothing started yet.
  const shown = page.locator('#estimate', { hasText: 'This job reserves 11 pages (11 counted), 33 credits of your 100.' });
  await shown.waitFor({ timeout: WAIT_MS });
  assert.ok(estimates.some((body) => body.includes('"documentIds"')), 'asked with the stored documents');
  assert.equal((await con.ream.listJobs({})).items.length, 0, 'no job before Start job');
  await assertAccessible(page, 'new job with its estimate');

  await page.getByRole('button', { name: 'Start job' }).click();
  await page.waitForURL(/#\/jobs\//, { timeout: WAIT_MS });
  const jobId = /#\/jobs\/([^/?]+)/.exec(page.url())?.[1] ?? '';
  const entries = await adaptersOf(con.ream).store.listCredits({ jobId, limit: 10 });
  const reserve = entries.find((entry) => entry.kind === 'reserve');
  assert.equal(reserve?.amount, -33, 'the job reserves the credits the page showed');
  assert.deepEqual(reserve?.details, { estimatedPages: 11, documents: 2 });
});
