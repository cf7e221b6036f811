// The console behind a reverse proxy that serves ream under /ream/, in Chromium: its assets, API
// calls, uploads (tus Locations from --public-url) and report frame stay under the prefix, so
// a job is submitted, followed and read there, and the page asks for nothing outside /ream/.
import assert from 'node:assert/strict';
import { createServer, request, type Server } from 'node:http';
import { test } from 'node:test';
import { useConsole } from '../support/console-browser.ts';

const WAIT_MS = 30_000;
const PREFIX = '/ream';

/** A reverse proxy: `/ream/…` goes to `/…` of the upstream (streamed both ways), `/ream` redirects to `/ream/`, anything else is 404. */
async function startPrefixProxy(upstream: () => URL): Promise<{ url: string; server: Server }> {
  const server = createServer((incoming, outgoing) => {
    const path = incoming.url ?? '/';
    if (path === PREFIX) return void outgoing.writeHead(301, { location: `${PREFIX}/` }).end();
    if (!path.startsWith(`${PREFIX}/`)) return void outgoing.writeHead(404).end('not under the prefix');
    const target = upstream();
    const forwarded = request({ host: target.hostname, port: target.port, method: incoming.method, path: path.slice(PREFIX.length), headers: incoming.headers }, (answer) => {
      outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(outgoing);
    });
    forwarded.on('error', () => outgoing.destroy());
    incoming.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  assert.ok(address !== null && typeof address === 'object');
  return { url: `http://127.0.0.1:${address.port}`, server };
}

const con = useConsole('dashboard-base-path', { serve: false });

void test('console: served under /ream/ by a reverse proxy, a file is uploaded, its job followed and read, all under the prefix', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  // The server is started once the proxy's address (its public URL) is known.
  const upstream: { url?: URL } = {};
  const proxy = await startPrefixProxy(() => {
    assert.ok(upstream.url);
    return upstream.url;
  });
  t.after(() => new Promise<void>((resolve) => proxy.server.close(() => resolve())));
  const { server } = await con.serve('data', {}, { publicUrl: `${proxy.url}${PREFIX}/` });
  upstream.url = new URL(server.url);

  const requested: string[] = [];
  const failed: string[] = [];
  page.on('request', (sent) => requested.push(sent.url()));
  page.on('response', (answer) => {
    if (answer.status() >= 400) failed.push(`${answer.status()} ${answer.url()}`);
  });
  await page.goto(`${proxy.url}${PREFIX}/#/submit`);
  await page.locator('#files').setInputFiles([{ name: 'note.txt', mimeType: 'text/plain', buffer: Buffer.from('a note behind a proxy') }]);
  await page.getByRole('button', { name: 'Start job' }).click({ timeout: WAIT_MS });
  await page.waitForURL(/#\/jobs\/job_/, { timeout: WAIT_MS });
  await page.locator('#job-status', { hasText: /^succeeded$/ }).waitFor({ timeout: WAIT_MS });
  await page.locator('.documents li .name', { hasText: 'note.txt' }).click();
  await page.locator('pre.page-text', { hasText: 'a note behind a proxy' }).waitFor({ timeout: WAIT_MS });

  const outside = requested.filter((url) => !url.startsWith(`${proxy.url}${PREFIX}/`));
  assert.deepEqual(outside, [], 'nothing asked outside the prefix');
  assert.ok(requested.some((url) => url.includes(`${PREFIX}/v1/uploads/`)), 'the upload went on at its Location, under the prefix');
  assert.deepEqual(failed, []);

  // A job made through the proxy is at its Location under the prefix.
  const form = new FormData();
  form.append('file', new Blob(['another note']), 'another.txt');
  const made = await fetch(`${proxy.url}${PREFIX}/v1/jobs`, { method: 'POST', body: form });
  // Relative, as an upload's: resolved against the address the client used, here the proxy's.
  const location = new URL(made.headers.get('location') ?? '', made.url).href;
  assert.match(location, new RegExp(`^${proxy.url}${PREFIX}/v1/jobs/job_`), await made.clone().text());
  assert.equal((await fetch(location)).status, 200, 'the Location answers');
});
