import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createReam, type Ream, type ReamOptions } from '../../src/runtime/create-ream.ts';
import { buildServer, startServer, type RunningServer, type StartOptions } from '../../src/server/app.ts';
import { issueApiKey } from '../../src/server/auth/api-keys.ts';
import type { JobView } from '../../src/server/views.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { requireOrSkip } from '../support/env.ts';
import { makePdf, numberedPages, writePdf } from '../support/make-pdf.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';

const CHROMIUM = '/usr/bin/chromium';
const CASE_TIMEOUT_MS = 240_000;
const WAIT_MS = 120_000;

let dir: string;
let browser: Browser | undefined;
const cleanups: Array<() => Promise<void>> = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-dashboard-'));
  if (existsSync(CHROMIUM)) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  }
});
after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

/** A ream server in its own data dir, closed after all tests. */
async function serve(name: string, options: Omit<StartOptions, 'ream'> = {}, reamOptions: ReamOptions = {}): Promise<{ ream: Ream; server: RunningServer }> {
  const ream = await createReam({ dataDir: join(dir, name), threads: 1, ...reamOptions });
  const server = await startServer({ ream, host: '127.0.0.1', port: 0, ...options });
  cleanups.push(async () => {
    await server.close();
    await ream.close();
  });
  return { ream, server };
}

/** A tiny server of a blank page: another origin for the page to call the API from. */
async function otherOrigin(): Promise<string> {
  const server: Server = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>other origin</title>'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(() => resolve())));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return `http://127.0.0.1:${address.port}`;
}

/** A fresh browser page (own storage); uncaught page errors fail the test at its end. */
async function openPage(t: TestContext): Promise<Page> {
  assert.ok(browser);
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  t.after(async () => {
    await context.close();
    assert.deepEqual(errors, [], 'no uncaught errors in the page');
  });
  return page;
}

const textOf = async (page: Page, selector: string): Promise<string> => (await page.locator(selector).textContent()) ?? '';

describe('dashboard: served at /ui/, driven in Chromium', { timeout: CASE_TIMEOUT_MS * 4 }, () => {
  test('serves only its fixed files, with their content types, without credentials', async () => {
    const { server } = await serve('files', { auth: { mode: 'on', jwtSecret: 'a-secret-long-enough-for-hs256-signing' } }, { work: false });
    const root = await fetch(`${server.url}/`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/ui/');
    for (const [path, type] of [['/ui/', 'text/html'], ['/ui/app.js', 'text/javascript'], ['/ui/api.js', 'text/javascript'], ['/ui/style.css', 'text/css'], ['/ui/vendor/tus.min.js', 'text/javascript'], ['/ui/favicon.svg', 'image/svg+xml'], ['/favicon.ico', 'image/svg+xml']] as const) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 200, path);
      assert.match(response.headers.get('content-type') ?? '', new RegExp(`^${type.replace('+', '\\+')}`), path);
      assert.match(response.headers.get('content-security-policy') ?? '', /default-src 'self'/, path);
      await response.arrayBuffer();
    }
    for (const path of ['/ui/..%2Fpackage.json', '/ui/%2e%2e%2fpackage.json', '/ui/README.md']) {
      const response = await fetch(`${server.url}${path}`);
      assert.equal(response.status, 404, path);
      assert.equal(((await response.json()) as { code: string }).code, 'not_found');
    }
    // The API itself still needs a key.
    assert.equal((await fetch(`${server.url}/v1/jobs`)).status, 401);
  });

  test('uploads two PDFs with tus, follows the job to success and shows the extracted text', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    if (!requireOrSkip(t, browser !== undefined, `Chromium at ${CHROMIUM}`)) return;
    const { server } = await serve('upload');
    const files = [join(dir, 'alpha.pdf'), join(dir, 'beta.pdf')];
    await writePdf(files[0] ?? '', { pages: numberedPages('A', 2) });
    await writePdf(files[1] ?? '', { pages: numberedPages('B', 1) });

    const page = await openPage(t);
    // The first event stream breaks after one event: the page must resume after it, not start over.
    const resumedFrom: Array<string | undefined> = [];
    await page.route('**/v1/jobs/*/events', async (route) => {
      resumedFrom.push(route.request().headers()['last-event-id']);
      if (resumedFrom.length > 1) return route.continue();
      const progress = { documentsDone: 0, documentsTotal: 2, pagesDone: 0, pagesTotal: 0, percent: 0, etaSeconds: null };
      const first = JSON.stringify({ seq: 1, type: 'job.queued', progress });
      return route.fulfill({ status: 200, contentType: 'text/event-stream', body: `: ream events\n\nid: 1\nevent: job.queued\ndata: ${first}\n\n` });
    });
    await page.goto(`${server.url}/`);
    assert.equal(page.url(), `${server.url}/ui/`);
    assert.equal(await page.locator('#auth').isHidden(), true, 'no key field while auth is off');
    await page.locator('#files').setInputFiles(files);
    assert.equal(await page.locator('#uploads li').count(), 2);
    await page.getByRole('button', { name: 'Upload and start job' }).click();

    await page.locator('#job-status', { hasText: /^succeeded$/ }).waitFor({ timeout: WAIT_MS });
    assert.equal(await textOf(page, '#job-summary'), '3 of 3 pages, 2 of 2 documents', 'an ended job shows no ETA');
    assert.equal(await page.locator('#job-progress').getAttribute('value'), '100');
    assert.equal(await page.getByRole('button', { name: 'Cancel job' }).isDisabled(), true, 'an ended job cannot be cancelled');
    assert.deepEqual(resumedFrom, [undefined, '1'], 'the second stream asked for the events after seq 1');

    await page.getByRole('button', { name: 'Show results' }).click();
    await page.locator('#results article').nth(1).waitFor({ timeout: WAIT_MS });
    const results = await textOf(page, '#results');
    assert.match(results, /alpha\.pdf: succeeded, 2 pages/);
    assert.match(results, /beta\.pdf: succeeded, 1 pages/);
    for (const line of ['A page 1 of 2', 'Invoice number INV-A-2', 'B page 1 of 1']) assert.ok(results.includes(line), `results show "${line}"`);

    // The job list caught up too.
    await page.locator('#jobs li', { hasText: 'succeeded' }).waitFor({ timeout: WAIT_MS });

    // Search finds the page, with the words marked.
    await page.getByLabel('Words on a page').fill('INV-A-2');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('#search-hits li').first().waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('#search-hits li').count(), 1);
    assert.match(await textOf(page, '#search-hits li'), /^alpha\.pdf page 2 doc_\w+.*INV-A-2/s, 'the file, the page, and the words without the marks');
    assert.ok((await page.locator('#search-hits mark').count()) >= 1, 'the matched words are marked');
    await page.getByLabel('Words on a page').fill('nowhere');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.locator('#search-summary', { hasText: 'No page holds all these words.' }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('#search-hits li').count(), 0);
  });

  test('with auth on the page asks for a key, shows a refusal, then the jobs', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    if (!requireOrSkip(t, browser !== undefined, `Chromium at ${CHROMIUM}`)) return;
    const { ream, server } = await serve('auth', { auth: { mode: 'on' } }, { work: false });
    const { token } = await issueApiKey(adaptersOf(ream).store, { tenantId: 'acme', name: 'dashboard', role: 'user' });
    const body = new FormData();
    body.append('file', new Blob([await makePdf({ pages: ['one page'] })], { type: 'application/pdf' }), 'one.pdf');
    const submitted = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body, headers: { authorization: `Bearer ${token}` } });
    assert.equal(submitted.status, 202);
    const job = (await submitted.json()) as JobView;

    const page = await openPage(t);
    await page.goto(`${server.url}/ui/`);
    await page.locator('#auth').waitFor({ state: 'visible', timeout: WAIT_MS });
    await page.locator('#key-error', { hasText: 'Enter an API key' }).waitFor({ timeout: WAIT_MS });

    await page.getByRole('textbox', { name: 'API key' }).fill('ream_0000000000000000_wrong');
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.locator('#key-error', { hasText: 'The key was refused: invalid, expired or revoked credentials' }).waitFor({ timeout: WAIT_MS });
    assert.equal(await page.locator('#jobs li').count(), 0);

    await page.getByRole('textbox', { name: 'API key' }).fill(token);
    await page.getByRole('button', { name: 'Use key' }).click();
    const item = page.locator(`#jobs li[data-job-id="${job.id}"]`);
    await item.waitFor({ timeout: WAIT_MS });
    assert.match((await item.textContent()) ?? '', /queued/);
    assert.equal(await textOf(page, '#key-error'), '');

    // The key is remembered by this browser.
    await page.reload();
    await item.waitFor({ timeout: WAIT_MS });
  });

  test('a page of another origin gets through only when that origin is configured', { timeout: CASE_TIMEOUT_MS }, async (t) => {
    if (!requireOrSkip(t, browser !== undefined, `Chromium at ${CHROMIUM}`)) return;
    const [allowed, refused] = [await otherOrigin(), await otherOrigin()];
    const { server } = await serve('cors', { cors: { origins: [allowed] } }, { work: false });
    const pdf = Array.from(await makePdf({ pages: ['cross-origin page'] }));

    const page = await openPage(t);
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

    const ream = await createReam({ dataDir: join(dir, 'cors-bad'), work: false });
    try {
      await rejectsWithCode(Promise.resolve().then(() => buildServer({ ream, cors: { origins: ['http://app.example/'] } })), 'validation_failed', /must be an http\(s\) origin/);
    } finally {
      await ream.close();
    }
  });
});
