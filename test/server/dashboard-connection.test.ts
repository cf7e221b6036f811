// The job page, in Chromium, when the server goes away mid-stream: it says within seconds that it
// is no longer live, not once its reconnects run out (~11 s later).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { useConsole } from '../support/console-browser.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

const WAIT_MS = 30_000;
/** What "promptly" means here: the client's reconnects alone took ~11 s. */
const SAID_WITHIN_MS = 4_000;

// No work: the job stays queued, its event stream open.
const con = useConsole('dashboard-connection', { ream: { work: false } });

void test('console: a job page whose server is gone says it lost the connection within seconds', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const job = await new ReamClient({ baseUrl: con.server.url }).submit({ files: [{ name: 'waits.txt', data: new TextEncoder().encode('waits') }] });
  const { port } = new URL(con.server.url);
  // The browser reaches the server through a proxy: closing it is the server gone, as the browser sees it.
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(port) });
  let proxyClosed = false;
  t.after(() => (proxyClosed ? undefined : proxy.close()));
  const url = proxy.url(con.server.url).replace(/\/$/, '');
  const streaming = page.waitForResponse((response) => response.url().endsWith('/events'), { timeout: WAIT_MS });
  await page.goto(`${url}/#/jobs/${job.id}`);
  await page.locator('#job-status', { hasText: /^queued$/ }).waitFor({ timeout: WAIT_MS });
  await streaming;
  assert.equal(await page.locator('#connection-lost').count(), 0, 'live while connected');

  const gone = Date.now();
  await proxy.close();
  proxyClosed = true;
  const lost = page.locator('#connection-lost');
  await lost.waitFor({ timeout: SAID_WITHIN_MS });
  const saidAfter = Date.now() - gone;
  assert.match((await lost.textContent()) ?? '', /^Connection to the server lost \(.+\): not live, reconnecting…$/);
  assert.ok(saidAfter < SAID_WITHIN_MS, `said after ${saidAfter} ms`);
});
