// The page of a job with hundreds of documents, in Chromium: its events (replayed from the
// start, thousands of them) are shown a batch at a time, and no document past the first page of
// the listing is read one by one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { useConsole } from '../support/console-browser.ts';

const WAIT_MS = 60_000;
const DOCUMENTS = 300;

const con = useConsole('dashboard-big-job');
let jobId: string;

con.before(async () => {
  const client = new ReamClient({ baseUrl: con.server.url });
  const files = Array.from({ length: DOCUMENTS }, (_, i) => ({ name: `note-${String(i).padStart(3, '0')}.txt`, data: new TextEncoder().encode(`note number ${i}`) }));
  jobId = (await client.submit({ files })).id;
  await client.wait(jobId);
});

void test('console: a job of 300 documents replays its events in batches and reads no document one by one', { timeout: 120_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  // Each time the page changes counts once: one render per event would count in the thousands.
  await page.addInitScript(() => {
    const counter = globalThis as unknown as { renders: number; MutationObserver: new (callback: () => void) => { observe(target: unknown, options: object): void }; document: unknown };
    counter.renders = 0;
    new counter.MutationObserver(() => {
      counter.renders++;
    }).observe(counter.document, { subtree: true, childList: true, characterData: true, attributes: true });
  });
  // The replay read in small pieces, each in a task of its own, as from a loaded server: the page
  // shows what it has between them, documents that started but have not ended among it.
  await page.addInitScript(() => {
    const streams = (globalThis as unknown as { ReadableStream: { prototype: Record<symbol, (this: unknown) => AsyncIterator<unknown>> } }).ReadableStream.prototype;
    const iterate = streams[Symbol.asyncIterator];
    if (iterate === undefined) return;
    streams[Symbol.asyncIterator] = async function* piecemeal(this: unknown) {
      const chunks = { [Symbol.asyncIterator]: () => iterate.call(this) };
      for await (const chunk of chunks) {
        const bytes = chunk as Uint8Array;
        for (let at = 0; at < bytes.length; at += 16_384) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          yield bytes.subarray(at, at + 16_384);
        }
      }
    };
  });
  const documentReads: string[] = [];
  page.on('request', (request) => {
    if (new URL(request.url()).pathname.startsWith('/v1/documents/')) documentReads.push(request.url());
  });
  let streamed = 0;
  let replayed = (): void => undefined;
  const replayEnded = new Promise<void>((resolve) => (replayed = resolve));
  page.on('requestfinished', (request) => {
    if (!request.url().endsWith('/events')) return;
    streamed++;
    replayed();
  });
  // The job's view is answered only once the replay has ended, as a loaded server may: until
  // then the page cannot tell the job has ended, and must not read the documents it names.
  await page.route(`**/v1/jobs/${encodeURIComponent(jobId)}`, async (route) => {
    await replayEnded;
    await route.continue();
  });

  await page.goto(`${con.server.url}/#/jobs/${encodeURIComponent(jobId)}`);
  await page.locator('#job-summary', { hasText: `${DOCUMENTS} of ${DOCUMENTS} documents` }).waitFor({ timeout: WAIT_MS });
  await page.locator('#more-documents').waitFor({ timeout: WAIT_MS });
  const deadline = Date.now() + WAIT_MS;
  while (streamed === 0 && Date.now() < deadline) await page.waitForTimeout(100);
  assert.equal(streamed, 1, 'the replay of the events has ended');
  // The list after the replay: the first page of the listing, nothing else.
  await page.locator('.documents > li').nth(99).waitFor({ timeout: WAIT_MS });
  assert.equal(await page.locator('.documents > li').count(), 100);
  assert.equal(await page.locator('.documents > li .name').first().textContent(), 'note-000.txt');

  const renders = await page.evaluate(() => (globalThis as unknown as { renders: number }).renders);
  assert.ok(renders < DOCUMENTS, `the events (more than ${DOCUMENTS * 3}) were shown in a few batches, not one render each (${renders} renders)`);
  assert.deepEqual(documentReads, [], 'no document read by itself: the listing names those shown');
});
