import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { createReam, type ReamOptions } from '../../src/runtime/create-ream.ts';
import { buildServer, type StartOptions } from '../../src/server/app.ts';
import { issueApiKey } from '../../src/server/auth/api-keys.ts';
import type { JobView } from '../../src/server/views.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { makePdf, numberedPages, writePdf } from '../support/make-pdf.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { assertAccessible, useConsole, type Served } from '../support/console-browser.ts';

const CASE_TIMEOUT_MS = 120_000;
const WAIT_MS = 60_000;
/** A file name that is markup: the console must show it as these characters, never run it. */
const HOSTILE_NAME = '<img src=x onerror=alert(1)>.pdf';

const con = useConsole('dashboard', { serve: false });

/** A ream server in its own data dir, closed after all tests. */
const serve = (name: string, options: Omit<StartOptions, 'ream'> = {}, reamOptions: ReamOptions = {}): Promise<Served> => con.serve(name, reamOptions, options);

/** A tiny server of a blank page: another origin for the page to call the API from. */
async function otherOrigin(t: TestContext): Promise<string> {
  const server: Server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>other origin</title>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return `http://127.0.0.1:${address.port}`;
}

/** Scrolls the job list to its end (typed by hand: the tests' tsconfig has no DOM types). */
const scrollToEnd = (page: Page): Promise<void> =>
  page.locator('.virtual').evaluate((element: { scrollTo(x: number, y: number): void; scrollHeight: number }) => element.scrollTo(0, element.scrollHeight));

const textOf = async (page: Page, selector: string): Promise<string> => (await page.locator(selector).first().textContent()) ?? '';

async function submitByApi(url: string, token: string, name: string, pages: string[]): Promise<JobView> {
  const body = new FormData();
  body.append('file', new Blob([await makePdf({ pages })], { type: 'application/pdf' }), name);
  const answer = await fetch(`${url}/v1/jobs`, { method: 'POST', body, headers: { authorization: `Bearer ${token}` } });
  assert.equal(answer.status, 202);
  return (await answer.json()) as JobView;
}

describe('console: built by Vite, served at /, driven in Chromium', { timeout: CASE_TIMEOUT_MS * 4 }, () => {
  test('serves index.html uncached and hashed assets for a year, under a strict CSP, and nothing else', async () => {
    const { server } = await serve('files', { auth: { mode: 'on', jwtSecret: 'a-secret-long-enough-for-hs256-signing' } }, { work: false });
    const index = await fetch(`${server.url}/`);
    assert.equal(index.status, 200);
    assert.match(index.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    const csp = index.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'self'", "script-src 'self'", "connect-src 'self'", "object-src 'none'", "frame-ancestors 'none'"]) assert.ok(csp.includes(directive), directive);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|https?:/, 'no inline script, no other origin');
    const html = await index.text();
    assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, 'no inline script in the page');
    // Relative (./assets/…): the console works under a proxy's path prefix as at /.
    const assets = [...html.matchAll(/(?:src|href)="\.(\/assets\/[^"]+)"/g)].map((match) => match[1] ?? '');
    assert.ok(assets.some((path) => /\/assets\/index-[\w-]{8}\.js$/.test(path)), `a hashed script: ${assets.join(', ')}`);
    let gzipped = 0;
    for (const path of assets) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 200, path);
      assert.equal(response.headers.get('cache-control'), 'public, max-age=31536000, immutable', path);
      assert.match(response.headers.get('content-type') ?? '', path.endsWith('.js') ? /^text\/javascript/ : /^text\/css/, path);
      const body = Buffer.from(await response.arrayBuffer());
      if (path.endsWith('.js')) gzipped += (await import('node:zlib')).gzipSync(body).length;
    }
    assert.ok(gzipped > 0 && gzipped < 300 * 1024, `the console's JS is under 300 kB gzipped (${gzipped} bytes)`);
    for (const [path, status] of [['/ui/', 302], ['/ui', 302], ['/favicon.ico', 200]] as const) {
      const response = await fetch(`${server.url}${path}`, { redirect: 'manual' });
      assert.equal(response.status, status, path);
      if (status === 302) assert.equal(new URL(response.headers.get('location') ?? '', `${server.url}${path}`).pathname, '/', path);
      await response.arrayBuffer();
    }
    for (const path of ['/assets/..%2Fpackage.json', '/assets/%2e%2e%2findex.html', '/assets/nope.js']) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 404, path);
      assert.equal(((await response.json()) as { code: string }).code, 'not_found', path);
    }
    // The API itself still needs a key.
    assert.equal((await fetch(`${server.url}/v1/jobs`)).status, 401);
  });

  test('submit over tus, watch it live (the stream resumes), read the document, search it; a markup file name stays text', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const page = await con.page(t);
    if (!page) return;
    const { ream, server } = await serve('flow');
    // The first event stream breaks after one event: the page must resume after it, not start over.
    const resumedFrom: Array<string | undefined> = [];
    await page.route('**/v1/jobs/*/events', async (route) => {
      resumedFrom.push(route.request().headers()['last-event-id']);
      if (resumedFrom.length > 1) return route.continue();
      const progress = { documentsDone: 0, documentsTotal: 2, pagesDone: 0, pagesTotal: 0, percent: 0, etaSeconds: null };
      const first = JSON.stringify({ seq: 1, type: 'job.queued', jobId: 'job_x', tenantId: 'local', at: Date.now(), progress });
      return route.fulfill({ status: 200, contentType: 'text/event-stream', body: `: ream events\n\nid: 1\nevent: job.queued\ndata: ${first}\n\n` });
    });
    // The first tus PATCH is cut off mid-way, as by a network drop: the upload must resume and finish.
    let patches = 0;
    await page.route('**/v1/uploads/*', async (route) => {
      if (route.request().method() === 'PATCH' && ++patches === 1) return route.abort('connectionreset');
      return route.continue();
    });

    await page.goto(`${server.url}/`);
    await page.getByRole('link', { name: 'New job' }).first().click();
    await page.locator('#files').setInputFiles([
      { name: 'alpha.pdf', mimeType: 'application/pdf', buffer: Buffer.from(await makePdf({ pages: numberedPages('A', 2) })) },
      { name: HOSTILE_NAME, mimeType: 'application/pdf', buffer: Buffer.from(await makePdf({ pages: ['A hostile name, harmless text'] })) },
    ]);
    assert.deepEqual(await page.locator('.uploads .name').allTextContents(), ['alpha.pdf', HOSTILE_NAME], 'the names, as text');
    assert.equal(await page.locator('img').count(), 0, 'no element made of the file name');
    // The options form is built from the pipeline's schema (GET /v1/pipelines).
    await page.getByLabel('chunkPages', { exact: true }).waitFor({ timeout: WAIT_MS });
    // Each file is uploaded as soon as it is picked, the cut-off one resumed; what the job would
    // reserve is asked of the server (POST /v1/jobs/estimate) as the files are stored and the choices change.
    await page.locator('#estimate', { hasText: 'This job reserves 3 pages (3 counted).' }).waitFor({ timeout: WAIT_MS });
    await page.getByLabel('Pipeline', { exact: true }).selectOption('rules');
    await page.locator('#estimate', { hasText: /^Not startable as it is: .*options\.rules/ }).waitFor({ timeout: WAIT_MS });
    const rules = [{ name: 'invoice', pattern: 'Invoice number (INV-A-2)' }];
    await page.getByLabel('rules (JSON) (required)').fill(JSON.stringify(rules));
    await page.locator('#estimate', { hasText: 'This job reserves 3 pages (3 counted)' }).waitFor({ timeout: WAIT_MS });
    await page.getByLabel('chunkPages', { exact: true }).fill('1');
    assert.deepEqual(await page.getByLabel('ocr', { exact: true }).locator('option').allTextContents(), ['(default)', 'auto', 'always', 'never'], 'an enum is a choice');
    await assertAccessible(page, 'new job');
    await page.getByRole('button', { name: 'Start job' }).click();

    await page.locator('#job-status', { hasText: /^succeeded$/ }).waitFor({ timeout: WAIT_MS });
    const jobId = /#\/jobs\/([^/]+)$/.exec(page.url())?.[1] ?? '';
    const submitted = (await (await fetch(`${server.url}/v1/jobs/${jobId}`)).json()) as JobView;
    assert.deepEqual(submitted.options, { rules, chunkPages: 1 }, 'the form\'s values, typed as the schema says');
    assert.ok(patches >= 3, `each file went over tus, the cut-off one twice (${patches} PATCH requests)`);
    // The page may show the end before it reconnects (a job this small can end before the page
    // first reads it); the client reconnects a second after the cut stream, wherever the job is.
    for (const started = Date.now(); resumedFrom.length < 2 && Date.now() - started < WAIT_MS;) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(resumedFrom[0], undefined);
    assert.equal(resumedFrom[1], '1', 'the second stream asked for the events after seq 1');
    assert.match(await textOf(page, '#job-summary'), /^3 of 3 pages, 2 of 2 documents$/);
    assert.equal(await page.getByRole('button', { name: 'Cancel job' }).isDisabled(), true, 'an ended job cannot be cancelled');
    const hostile = page.locator('.documents .name', { hasText: HOSTILE_NAME });
    await hostile.waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('img').count(), 0);
    assert.ok((await page.locator('.chunk-map .cell.done').count()) >= 2, 'the chunk maps filled in');
    await assertAccessible(page, 'job');

    await page.getByRole('link', { name: 'alpha.pdf' }).click();
    await page.locator('.page-text').waitFor({ timeout: WAIT_MS });
    assert.match(await textOf(page, '.page-text'), /A page 1 of 2/);
    await page.getByRole('img', { name: 'Page 1 of alpha.pdf' }).waitFor({ timeout: WAIT_MS });
    // The field the rule found links to its page, with the value marked there.
    const field = page.locator('.fields-table tbody tr');
    assert.deepEqual(await field.locator('td').allTextContents(), ['invoice', 'INV-A-2', 'page 2']);
    await field.getByRole('button', { name: 'page 2' }).click();
    assert.equal(await page.getByLabel('Page', { exact: true }).inputValue(), '2');
    assert.deepEqual(await page.locator('.page-text mark').allTextContents(), ['INV-A-2']);
    await page.getByLabel('Page', { exact: true }).selectOption('1');
    await page.getByLabel('Page', { exact: true }).selectOption('2');
    assert.match(await textOf(page, '.page-text'), /Invoice number INV-A-2/);
    const drawn = page.getByRole('img', { name: 'Page 2 of alpha.pdf' });
    await drawn.waitFor({ timeout: WAIT_MS });
    // Drawn once its bytes are in (the element is there before they are).
    const width = async (): Promise<number> => drawn.evaluate((image: { naturalWidth: number }) => image.naturalWidth);
    for (const started = Date.now(); (await width()) <= 300 && Date.now() - started < WAIT_MS;) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok((await width()) > 300, 'the page image is drawn (a blob: URL the CSP allows)');
    await assertAccessible(page, 'document');
    // The skip link moves focus to the page's heading; it is not read as a route.
    const documentUrl = page.url();
    await page.locator('a.skip').focus();
    await page.keyboard.press('Enter');
    assert.equal(page.url(), documentUrl);
    assert.equal(await page.evaluate('document.activeElement && document.activeElement.id'), 'page-title');
    // Another document by its link: nothing of the last one stays on the page.
    await page.evaluate("location.hash = location.hash.replace(/documents\\/[^/?]+/, 'documents/doc_missing')");
    await page.locator('#document-error', { hasText: 'There is no document doc_missing.' }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('.page-text').count(), 0, 'the last document\'s text is gone');
    assert.doesNotMatch(await textOf(page, '#page-title'), /alpha\.pdf/);
    await page.goBack();
    await page.locator('.page-text', { hasText: 'A page 1 of 2' }).waitFor({ timeout: WAIT_MS });
    assert.equal(await textOf(page, '#document-error'), '', 'and nothing of the missing one stays either');

    await page.getByRole('link', { name: 'Search' }).click();
    await page.getByLabel('Words on a page').fill('INV-A-2');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('#search-hits li').first().waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('#search-hits li').count(), 1);
    assert.match(await textOf(page, '#search-hits li'), /^alpha\.pdf page 2 doc_\w+.*INV-A-2/s, 'the file, the page, and the words without the marks');
    assert.deepEqual(await page.locator('#search-hits mark').allTextContents(), ['INV-A-2'], 'the matched words are marked');
    assert.doesNotMatch(page.url(), /key|token/i);
    await assertAccessible(page, 'search');
    // The hit opens its document (in the newest job holding it) at its page.
    await page.locator('#search-hits a', { hasText: 'alpha.pdf' }).click();
    await page.locator('.page-text', { hasText: 'A page 2 of 2' }).waitFor({ timeout: WAIT_MS });
    assert.match(page.url(), /#\/jobs\/[^/]+\/documents\/[^/?]+\?page=2$/);

    // Filters: another job holds the same words but no invoice field. The job filter and the
    // field filter (no words) each leave only alpha.pdf; the hash keeps them over a reload.
    const copy = new FormData();
    copy.append('file', new Blob([await makePdf({ pages: ['Copy of Invoice number INV-A-2'] })], { type: 'application/pdf' }), 'beta.pdf');
    const other = (await (await fetch(`${server.url}/v1/jobs`, { method: 'POST', body: copy })).json()) as JobView;
    assert.equal((await ream.wait(other.id)).status, 'succeeded');
    const hitNames = async (): Promise<string[]> => (await page.locator('#search-hits .name').allTextContents()).sort();
    await page.goto(`${server.url}/#/search?q=INV-A-2`);
    await page.locator('#search-summary', { hasText: '2 pages' }).waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await hitNames(), ['alpha.pdf', 'beta.pdf']);
    await page.getByLabel('Job id', { exact: true }).fill(jobId);
    await page.getByLabel('Job id', { exact: true }).press('Enter');
    await page.locator('#search-summary', { hasText: '1 page' }).waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await hitNames(), ['alpha.pdf'], 'the job filter leaves the first job\'s document');
    assert.ok(page.url().includes(`job=${jobId}`), page.url());
    await page.getByLabel('Job id', { exact: true }).fill('');
    await page.getByLabel('Words on a page').fill('');
    await page.getByLabel('Field name', { exact: true }).fill('invoice');
    await page.getByLabel('Field value', { exact: true }).fill('inv-a-2');
    await page.getByLabel('Field value', { exact: true }).press('Enter');
    await page.waitForURL(/field=invoice%3Ainv-a-2/, { timeout: WAIT_MS });
    // No words: the document's first page (the job filter's hit was its page 2).
    await page.locator('#search-hits li', { hasText: /^alpha\.pdf page 1 / }).waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await hitNames(), ['alpha.pdf'], 'only alpha.pdf holds the field value (any case)');
    assert.doesNotMatch(page.url(), /job=/, 'the cleared job filter is gone');
    await page.reload();
    await page.locator('#search-summary', { hasText: '1 page' }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.getByLabel('Field name', { exact: true }).inputValue(), 'invoice', 'a reload keeps the filters');
    assert.equal(await page.getByLabel('Field value', { exact: true }).inputValue(), 'inv-a-2');
    await assertAccessible(page, 'search with filters');
    await page.getByLabel('Type', { exact: true }).selectOption('image');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('#search-summary', { hasText: 'No page matches these words and filters.' }).waitFor({ timeout: WAIT_MS });
    await page.goBack();
    await page.locator('#search-summary', { hasText: '1 page' }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.getByLabel('Type', { exact: true }).inputValue(), '', 'Back restores the filters before it');

    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.locator('#jobs li', { hasText: 'succeeded' }).first().waitFor({ timeout: WAIT_MS });
    await assertAccessible(page, 'jobs');
  });

  test('search shows the first 50 hits, and More pages the ones after them', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const page = await con.page(t);
    if (!page) return;
    const { ream, server } = await serve('search-paging');
    // 60 pages (form feeds) that each hold the word: more than one page of hits.
    const text = Array.from({ length: 60 }, (_, i) => `Walrus sighting number ${i + 1}.`).join('\f');
    const body = new FormData();
    body.append('file', new Blob([text], { type: 'text/plain' }), 'walrus.txt');
    const job = (await (await fetch(`${server.url}/v1/jobs`, { method: 'POST', body })).json()) as JobView;
    assert.equal((await ream.wait(job.id)).status, 'succeeded');
    await page.goto(`${server.url}/#/search?q=walrus`);
    await page.locator('#search-summary', { hasText: 'The first 50 pages' }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('#search-hits li').count(), 50);
    await page.getByRole('button', { name: 'More pages' }).click();
    await page.locator('#search-summary', { hasText: /^60 pages$/ }).waitFor({ timeout: WAIT_MS });
    const pages = await page.locator('#search-hits li').evaluateAll((items: Array<{ textContent: string | null }>) => items.map((item) => /page (\d+)/.exec(item.textContent ?? '')?.[1]));
    assert.deepEqual(pages.map(Number).sort((a, b) => a - b), Array.from({ length: 60 }, (_, i) => i + 1), 'every page once, the next ones after the first');
    assert.equal(await page.locator('#search-more').count(), 0, 'no more to show');
    await assertAccessible(page, 'search paged');
  });

  test('auth on: sign in with a key kept in sessionStorage; tenants see only their own jobs; workers for the admin only', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const page = await con.page(t);
    if (!page) return;
    const { ream, server } = await serve('auth', { auth: { mode: 'on' }, metricsHistory: { intervalMs: 1_000 } });
    const store = adaptersOf(ream).store;
    const acme = (await issueApiKey(store, { tenantId: 'acme', name: 'console', role: 'user' })).token;
    const beta = (await issueApiKey(store, { tenantId: 'beta', name: 'console', role: 'user' })).token;
    const adminKey = await issueApiKey(store, { tenantId: 'ops', name: 'admin', role: 'admin' });
    const admin = adminKey.token;
    const acmeJob = await submitByApi(server.url, acme, 'acme-secret.pdf', ['acme quarterly zebra']);
    const betaJob = await submitByApi(server.url, beta, 'beta.pdf', ['beta page']);

    await page.goto(`${server.url}/`);
    await page.locator('#signin-methods', { hasText: 'This server needs an API key' }).waitFor({ timeout: WAIT_MS });
    assert.equal((await page.locator('#signin-error').textContent()) ?? '', '', 'no error before anything was tried');
    await assertAccessible(page, 'sign in');
    await page.getByLabel('API key').fill('ream_0000000000000000_wrong');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#signin-error', { hasText: 'The key was refused' }).waitFor({ timeout: WAIT_MS });

    await page.getByLabel('API key').fill(beta);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator(`#jobs li[data-job-id="${betaJob.id}"]`).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator(`#jobs li[data-job-id="${acmeJob.id}"]`).count(), 0, "beta does not see acme's job");
    assert.equal(await page.evaluate(() => sessionStorage.getItem('ream.apiKey')), beta);
    assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
    assert.ok(!page.url().includes(beta), 'the key is not in the URL');

    // Another tenant's job by its id: not found, and nothing of it shown.
    await page.goto(`${server.url}/#/jobs/${acmeJob.id}`);
    await page.locator('#job-error', { hasText: 'not_found' }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('.documents li').count(), 0);
    // Its words are not found either, once acme's job has been indexed.
    await ream.wait(acmeJob.id);
    await page.goto(`${server.url}/#/search?q=zebra`);
    await page.locator('#search-summary', { hasText: 'No page holds all these words.' }).waitFor({ timeout: WAIT_MS });
    // Filters from a link that the form cannot show as typed are said, and the type is selected as it is.
    await page.goto(`${server.url}/#/search?q=zebra&type=application/pdf&from=2026-12-01T08:00:00Z`);
    await page.locator('#search-active', { hasText: 'Filtered by type application/pdf, from 2026-12-01T08:00:00Z.' }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('#search-type').inputValue(), 'application/pdf');

    // A reload keeps the session; the workers are for admins.
    await page.goto(`${server.url}/#/operate`);
    await page.locator('#operate-forbidden').waitFor({ timeout: WAIT_MS });

    await page.getByRole('button', { name: 'Sign out' }).click();
    assert.equal(await page.evaluate(() => sessionStorage.getItem('ream.apiKey')), null, 'sign out forgets the key');
    await page.getByLabel('API key').fill(admin);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Operate' }).click();
    const worker = page.locator('#workers tbody tr').first();
    await worker.waitFor({ timeout: WAIT_MS });
    const workerId = (await worker.getAttribute('data-worker-id')) ?? '';
    // Charts of the server's metrics history, once it holds a sample (one a second here).
    await page.getByRole('img', { name: /^Throughput, per second: latest pages \d/ }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('.chart canvas').count(), 5, 'throughput, failures by code, queue, queue age and tokens drawn');
    await page.getByRole('img', { name: /^Queue age, seconds: latest oldest waiting task \d/ }).waitFor({ timeout: WAIT_MS });
    await assertAccessible(page, 'operate');
    await worker.getByRole('button', { name: `pause worker ${workerId}` }).click();
    // Applied, the command is news no more: the state alone says it.
    await page.locator('#workers .worker-state', { hasText: /^paused \(paused by an admin\)$/ }).waitFor({ timeout: WAIT_MS });
    await worker.getByRole('button', { name: `resume worker ${workerId}` }).click();
    await page.locator('#workers .worker-state', { hasText: /^running$/ }).waitFor({ timeout: WAIT_MS });

    // The key revoked while the tab is open: the next request it makes sends it back to sign in.
    await store.revokeApiKey(adminKey.record.id, Date.now());
    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.locator('#signin-error', { hasText: 'Your key was refused' }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.evaluate(() => sessionStorage.getItem('ream.apiKey')), null, 'the refused key is forgotten');
  });

  test("a 200-page PDF's chunk map: one cell per chunk of 10 pages, each done, each opening its pages", { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const page = await con.page(t);
    if (!page) return;
    const { server } = await serve('chunks');
    const body = new FormData();
    body.append('options', JSON.stringify({ chunkPages: 10 }));
    body.append('file', new Blob([await makePdf({ pages: numberedPages('L', 200) })], { type: 'application/pdf' }), 'long.pdf');
    const job = (await (await fetch(`${server.url}/v1/jobs`, { method: 'POST', body })).json()) as JobView;

    await page.goto(`${server.url}/#/jobs/${job.id}`);
    await page.locator('#job-status', { hasText: /^succeeded$/ }).waitFor({ timeout: WAIT_MS });
    const cells = page.getByRole('group', { name: 'Chunks of long.pdf' }).getByRole('button');
    await page.locator('.cell.done').nth(19).waitFor({ timeout: WAIT_MS });
    assert.equal(await cells.count(), 20);
    assert.equal(await page.locator('.cell.done').count(), 20, 'every chunk done');
    await cells.nth(19).click();
    assert.equal(await cells.nth(19).getAttribute('aria-pressed'), 'true');
    assert.equal(await textOf(page, '.chunk-detail'), 'Chunk 20, pages 191–200: done, 1 attempt');
    await cells.nth(19).press('Enter');
    assert.equal(await page.locator('.chunk-detail').count(), 0, 'the keyboard closes it again');
    assert.match(await textOf(page, '.documents li'), /200 pages/);
  });

  test('a failed job shows its document error; Retry reruns it and the page follows the new run from the last event', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const page = await con.page(t);
    if (!page) return;
    const { server } = await serve('retry');
    const body = new FormData();
    body.append('options', JSON.stringify({ maxPages: 1 }));
    body.append('file', new Blob([await makePdf({ pages: ['one', 'two'] })], { type: 'application/pdf' }), 'too-long.pdf');
    const job = (await (await fetch(`${server.url}/v1/jobs`, { method: 'POST', body })).json()) as JobView;

    const resumedFrom: Array<string | undefined> = [];
    page.on('request', (request) => {
      if (request.url().endsWith('/events')) resumedFrom.push(request.headers()['last-event-id']);
    });
    await page.goto(`${server.url}/#/jobs/${job.id}`);
    await page.locator('#job-status', { hasText: /^failed$/ }).waitFor({ timeout: WAIT_MS });
    await page.locator('.documents .error', { hasText: /\(\w+\)$/ }).waitFor({ timeout: WAIT_MS });
    const retried = page.waitForResponse((response) => response.url().endsWith(`/v1/jobs/${job.id}/retry`));
    const secondStream = page.waitForRequest((request) => request.url().endsWith('/events'));
    await page.getByRole('button', { name: 'Retry failed parts' }).click();
    assert.equal((await retried).status(), 202);
    await secondStream;
    // It fails again (the file is still too long), seen over a new stream that resumed after the old one.
    await page.locator('#job-status', { hasText: /^failed$/ }).waitFor({ timeout: WAIT_MS });
    assert.equal(resumedFrom[0], undefined);
    assert.match(resumedFrom[1] ?? '', /^[1-9]\d*$/, 'the second stream resumed after the events already seen');
    const final = (await (await fetch(`${server.url}/v1/jobs/${job.id}`)).json()) as JobView;
    assert.equal(final.status, 'failed');
  });

  test('an upload cut off by a page reload resumes on the server\'s upload when the same file is dropped again', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const page = await con.page(t);
    if (!page) return;
    const { server } = await serve('reload');
    const path = join(con.dir, 'resume-me.pdf');
    await writePdf(path, { pages: numberedPages('R', 3) });
    const creations: string[] = [];
    page.on('request', (request) => {
      if (request.method() === 'POST' && request.url().endsWith('/v1/uploads')) creations.push(request.url());
    });
    // Every PATCH fails, as on a dead network, until the page is reloaded: a retry the client
    // sends between the route's removal and the reload would otherwise finish the upload first.
    let networkDown = true;
    const firstPatch = new Promise<void>((resolve) => {
      void page.route('**/v1/uploads/*', async (route) => {
        if (route.request().method() !== 'PATCH' || !networkDown) return route.continue();
        resolve();
        return route.abort('connectionreset');
      });
    });
    await page.goto(`${server.url}/#/submit`);
    await page.locator('#files').setInputFiles(path);
    // Uploaded as soon as it is picked; the job cannot start before it is stored.
    await firstPatch;
    assert.equal(await page.getByRole('button', { name: 'Start job' }).isDisabled(), true, 'not startable while a file is unstored');
    const remembered = await page.evaluate(() => Object.keys(localStorage));
    assert.equal(remembered.length, 1, 'the unfinished upload is remembered');
    assert.match(remembered[0] ?? '', /^tus::ream-br:resume-me\.pdf:/);
    await page.reload();
    networkDown = false;

    await page.locator('#files').setInputFiles(path);
    await page.getByRole('button', { name: 'Start job' }).click(); // waits until it is enabled: the file stored
    await page.locator('#job-status', { hasText: /^succeeded$/ }).waitFor({ timeout: WAIT_MS });
    assert.equal(creations.length, 1, 'no second upload was created: the first one was resumed');
    assert.equal(await page.evaluate(() => localStorage.length), 0, 'a finished upload is forgotten');
    assert.match(await textOf(page, '.documents .name'), /^resume-me\.pdf$/);
  });

  test('the job list is windowed and pages on with the cursor as it scrolls; a queued job is cancelled from its page', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const page = await con.page(t);
    if (!page) return;
    const { server } = await serve('list', {}, { work: false });
    const form = new FormData();
    form.append('file', new Blob([await makePdf({ pages: ['listed'] })], { type: 'application/pdf' }), 'listed.pdf');
    const [stored] = ((await (await fetch(`${server.url}/v1/documents`, { method: 'POST', body: form })).json()) as { items: Array<{ id: string }> }).items;
    assert.ok(stored);
    const JOBS = 250;
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const answer = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ documents: [stored.id] }) });
      ids.push(((await answer.json()) as JobView).id);
    }

    await page.goto(`${server.url}/#/jobs`);
    await page.locator('.count', { hasText: `100 of ${JOBS} jobs` }).waitFor({ timeout: WAIT_MS });
    const rendered = await page.locator('#jobs li').count();
    assert.ok(rendered > 5 && rendered < 100, `only the rows in view are in the page (${rendered})`);
    assert.equal(await page.locator(`#jobs li[data-job-id="${ids.at(-1)}"]`).count(), 1, 'newest first');
    for (const expected of [`200 of ${JOBS} jobs`, `${JOBS} jobs`]) {
      await scrollToEnd(page);
      await page.locator('.count', { hasText: new RegExp(`^${expected}$`) }).waitFor({ timeout: WAIT_MS });
    }
    await scrollToEnd(page);
    await page.locator(`#jobs li[data-job-id="${ids[0]}"]`).waitFor({ timeout: WAIT_MS });
    assert.ok((await page.locator('#jobs li').count()) < 100, 'still windowed at the end');

    await page.locator(`#jobs li[data-job-id="${ids[0]}"] a`).click();
    await page.locator('#job-status', { hasText: /^queued$/ }).waitFor({ timeout: WAIT_MS });
    await page.getByRole('button', { name: 'Cancel job' }).click();
    await page.getByRole('button', { name: 'Yes, cancel the job' }).click();
    await page.locator('#job-status', { hasText: /^cancelled$/ }).waitFor({ timeout: WAIT_MS });
    assert.equal(((await (await fetch(`${server.url}/v1/jobs/${ids[0]}`)).json()) as JobView).status, 'cancelled');

    // The status filter asks the server for that status only.
    await page.getByRole('link', { name: 'Jobs' }).click();
    await page.getByLabel('Status').selectOption('cancelled');
    await page.locator('.count', { hasText: /^1 job$/ }).waitFor({ timeout: WAIT_MS });
    assert.deepEqual(await page.locator('#jobs li').evaluateAll((rows: Array<{ getAttribute(name: string): string | null }>) => rows.map((row) => row.getAttribute('data-job-id'))), [ids[0]]);
  });

  test('a page of another origin gets through only when that origin is configured', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    const page = await con.page(t);
    if (!page) return;
    const [allowed, refused] = [await otherOrigin(t), await otherOrigin(t)];
    const { server } = await serve('cors', { cors: { origins: [allowed] } }, { work: false });
    const pdf = Array.from(await makePdf({ pages: ['cross-origin page'] }));

    await page.goto(`${allowed}/`);
    const seen = await page.evaluate(
      async ({ api, bytes }) => {
        // A bearer header makes every call preflighted, as a real client's would be.
        const auth = { Authorization: 'Bearer not-checked-while-auth-is-off' };
        const list = await fetch(`${api}/v1/jobs`, { headers: auth });
        const form = new FormData();
        form.append('file', new Blob([new Uint8Array(bytes)], { type: 'application/pdf' }), 'x.pdf');
        const created = await fetch(`${api}/v1/jobs`, { method: 'POST', body: form, headers: { ...auth, 'Idempotency-Key': 'cors-1' } });
        const location = created.headers.get('location') ?? '';
        // The SSE route writes its own response: it must carry the CORS headers too.
        const abort = new AbortController();
        const events = await fetch(`${api}${location}/events`, { headers: { ...auth, 'Last-Event-ID': '0' }, signal: abort.signal });
        const first = await events.body?.getReader().read();
        abort.abort();
        return { list: list.status, created: created.status, location, retryAfter: created.headers.get('retry-after'), events: events.status, first: new TextDecoder().decode(first?.value as Uint8Array | undefined) };
      },
      { api: server.url, bytes: pdf },
    );
    assert.equal(seen.list, 200);
    assert.equal(seen.created, 202);
    assert.match(seen.location, /^\/v1\/jobs\/\S+$/, 'Location is exposed');
    assert.equal(seen.retryAfter, '1', 'Retry-After is exposed');
    assert.equal(seen.events, 200);
    assert.match(seen.first, /ream events/);

    await page.goto(`${refused}/`);
    const blocked = await page.evaluate(async (api) => {
      try {
        await fetch(`${api}/v1/jobs`);
        return 'got through';
      } catch (error) {
        return `blocked: ${String(error)}`;
      }
    }, server.url);
    assert.match(blocked, /^blocked: TypeError/);
  });

  test('CORS: a plain OPTIONS still reaches tus, a refused origin gets no grant, a bad origin is refused at build', async () => {
    const { server } = await serve('cors-http', { cors: { origins: ['http://app.example'] } }, { work: false });
    const discovery = await fetch(`${server.url}/v1/uploads`, { method: 'OPTIONS' });
    assert.equal(discovery.headers.get('tus-version'), '1.0.0', 'answered by tus');
    const preflight = (origin: string): Promise<Response> =>
      fetch(`${server.url}/v1/jobs`, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } });
    const granted = await preflight('http://app.example');
    assert.equal(granted.status, 204);
    assert.equal(granted.headers.get('access-control-allow-origin'), 'http://app.example');
    assert.match(granted.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    assert.match(granted.headers.get('access-control-allow-methods') ?? '', /PATCH/);
    assert.equal((await preflight('http://evil.example')).headers.get('access-control-allow-origin'), null);

    const ream = await createReam({ dataDir: join(con.dir, 'cors-bad'), work: false });
    try {
      await rejectsWithCode(Promise.resolve().then(() => buildServer({ ream, cors: { origins: ['http://app.example/'] } })), 'validation_failed', /must be an http\(s\) origin/);
    } finally {
      await ream.close();
    }
  });
});
