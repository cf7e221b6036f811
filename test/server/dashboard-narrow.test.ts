// The job list on a phone (375 px wide), in Chromium: every part of a row is in view, the
// longest status ("partially succeeded") and the percent after it included.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { useConsole } from '../support/console-browser.ts';

const WAIT_MS = 30_000;

const con = useConsole('dashboard-narrow');

void test('console: a job row at 375 px shows its status and percent whole', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const client = new ReamClient({ baseUrl: con.server.url });
  const job = await client.submit({ files: [{ name: 'fine.txt', data: new TextEncoder().encode('fine') }, { name: 'broken.pdf', data: new TextEncoder().encode('%PDF-1.4\nnot a pdf\n') }] });
  assert.equal((await client.wait(job.id, { signal: AbortSignal.timeout(60_000) })).status, 'partially_succeeded');

  await page.setViewportSize({ width: 375, height: 800 });
  await page.goto(`${con.server.url}/#/jobs`);
  const row = page.locator(`#jobs li[data-job-id="${job.id}"]`);
  await row.locator('.status', { hasText: /^partially succeeded$/ }).waitFor({ timeout: WAIT_MS });
  const box = await row.boundingBox();
  assert.ok(box);
  // Typed by hand: the tests' tsconfig has no DOM types.
  const parts = await row.locator('> *').evaluateAll((elements) => elements.map((element) => {
    const { right, width } = (element as unknown as { getBoundingClientRect(): { right: number; width: number } }).getBoundingClientRect();
    const { scrollWidth, clientWidth, textContent } = element as unknown as { scrollWidth: number; clientWidth: number; textContent: string };
    return { text: textContent, right, width, cut: scrollWidth > clientWidth };
  }));
  const shown = parts.filter((part) => part.width > 0); // the pipeline and date are hidden on a phone
  for (const part of shown) {
    assert.ok(part.right <= box.x + box.width, `${part.text} ends inside its row (${part.right} > ${box.x + box.width})`);
  }
  const [link, status, percent] = shown;
  assert.equal(status?.text, 'partially succeeded');
  assert.equal(status.cut, false, 'the status is not cut');
  assert.equal(percent?.text, '100%');
  assert.equal(percent.cut, false, 'the percent is not cut');
  assert.ok((link?.width ?? 0) > 40, `the link keeps some room (${link?.width} px)`);
});
