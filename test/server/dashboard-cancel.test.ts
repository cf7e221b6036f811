import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { ReamClient } from '../../src/client/index.ts';
import { createReam } from '../../src/runtime/create-ream.ts';
import { startServer } from '../../src/server/app.ts';
import { pipelines } from '../fixtures/slow-pipeline.ts';
import { requireOrSkip } from '../support/env.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { assertAccessible, CHROMIUM, launchChromium, openPage } from '../support/console-browser.ts';

const WAIT_MS = 30_000;

let dir: string;
let browser: Browser | undefined;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-dashboard-cancel-'));
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await rm(dir, { recursive: true, force: true });
});

void test('console: one document is cancelled from its row; the other finishes and the job is partially succeeded', { timeout: 90_000 }, async (t) => {
  if (!requireOrSkip(t, browser !== undefined, `Chromium at ${CHROMIUM}`)) return;
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, pipelines });
  const server = await startServer({ ream, host: '127.0.0.1', port: 0 });
  try {
    // `gated` chunks wait for the release file: both documents run until the test says.
    const releaseFile = join(dir, 'release');
    const client = new ReamClient({ baseUrl: server.url });
    const job = await client.submit({
      files: [{ name: 'stop-me.pdf', data: await makePdf({ pages: numberedPages('stop', 2) }) }, { name: 'keep-me.pdf', data: await makePdf({ pages: ['keep'] }) }],
      pipeline: 'gated',
      options: { chunkPages: 1, releaseFile },
    });

    const page = await openPage(browser, t);
    await page.goto(`${server.url}/#/jobs/${job.id}`);
    const cancel = page.getByRole('button', { name: 'Cancel stop-me.pdf' });
    await cancel.waitFor({ timeout: WAIT_MS });
    await page.getByRole('button', { name: 'Cancel keep-me.pdf' }).waitFor({ timeout: WAIT_MS });
    await cancel.click();
    const row = page.locator('.documents li', { hasText: 'stop-me.pdf' });
    await row.locator('.status', { hasText: /^cancelled$/ }).waitFor({ timeout: WAIT_MS });
    assert.equal(await row.getByRole('button', { name: 'Cancel stop-me.pdf' }).count(), 0, 'a cancelled document has no Cancel button');
    assert.equal((await client.getJob(job.id)).status, 'running', 'the other document goes on');

    await writeFile(releaseFile, '');
    await page.locator('#job-status', { hasText: /^partially succeeded$/ }).waitFor({ timeout: WAIT_MS });
    const view = await client.getJob(job.id);
    assert.equal(view.status, 'partially_succeeded');
    assert.deepEqual([view.counts.documents.succeeded, view.counts.documents.cancelled], [1, 1]);
    await page.locator('.documents li', { hasText: 'keep-me.pdf' }).locator('.status', { hasText: /^succeeded$/ }).waitFor({ timeout: WAIT_MS });
    await assertAccessible(page, 'job with a cancelled document');
  } finally {
    await server.close();
    await ream.close();
  }
});
