import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { pipelines } from '../fixtures/slow-pipeline.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { assertAccessible, useConsole } from '../support/console-browser.ts';
import { waitForMark } from '../support/gate.ts';

const WAIT_MS = 30_000;

const con = useConsole('dashboard-cancel', { serve: false });

void test('console: one document is cancelled from its row; the other finishes and the job is partially succeeded', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const { server } = await con.serve('data', { pipelines });
  // `gated` chunks wait for the release file: both documents run until the test says.
  const releaseFile = join(con.dir, 'release');
  const client = new ReamClient({ baseUrl: server.url });
  const job = await client.submit({
    files: [{ name: 'stop-me.pdf', data: await makePdf({ pages: numberedPages('stop', 2) }) }, { name: 'keep-me.pdf', data: await makePdf({ pages: ['keep'] }) }],
    pipeline: 'gated',
    options: { chunkPages: 1, releaseFile },
  });

  await page.goto(`${server.url}/#/jobs/${job.id}`);
  const cancel = page.getByRole('button', { name: 'Cancel stop-me.pdf' });
  await cancel.waitFor({ timeout: WAIT_MS });
  await page.getByRole('button', { name: 'Cancel keep-me.pdf' }).waitFor({ timeout: WAIT_MS });
  // Before any chunk ends, the map has a cell for each planned chunk (one per page here), all pending.
  const cells = page.getByRole('group', { name: 'Chunks of stop-me.pdf' }).getByRole('button');
  await cells.nth(1).waitFor({ timeout: WAIT_MS });
  assert.deepEqual(await Promise.all([0, 1].map((index) => cells.nth(index).getAttribute('class'))), ['cell pending', 'cell pending'], 'every planned chunk has its cell before one ends');
  // A first press only asks, as a job's Cancel does; no keeps the document running.
  await cancel.click();
  await page.getByRole('group', { name: 'Cancel stop-me.pdf' }).getByText(/Cancel stop-me\.pdf\? .*the other documents go on/).waitFor({ timeout: WAIT_MS });
  assert.deepEqual((await client.jobDocuments(job.id)).items.map((d) => d.status), ['running', 'running'], 'asking cancels nothing');
  await page.getByRole('button', { name: 'No, let it run' }).click();
  await cancel.click();
  await page.getByRole('button', { name: 'Yes, cancel the document' }).click();
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
});

void test('console: a document still queued has a row and is cancelled from it; the others succeed', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  // One task at a time, held by another job's gated chunk: this job's documents all stay queued
  // (no event names them) until the gate opens.
  const { ream, server } = await con.serve('data-queued', { concurrency: 1, pipelines });
  const releaseFile = join(con.dir, 'release-queued');
  const markDir = join(con.dir, 'marks-queued');
  const client = new ReamClient({ baseUrl: server.url });
  const blocker = await client.submit({ files: [{ name: 'blocker.pdf', data: await makePdf({ pages: ['blocker'] }) }], pipeline: 'gated', options: { releaseFile, markDir } });
  await waitForMark(markDir, 'started', (text) => text.includes('blocker'), WAIT_MS);
  const names = ['one.pdf', 'two.pdf', 'waiting.pdf'];
  const job = await client.submit({
    files: await Promise.all(names.map(async (name) => ({ name, data: await makePdf({ pages: numberedPages(name, 2) }) }))),
    pipeline: 'gated',
    options: { chunkPages: 1, releaseFile },
  });

  await page.goto(`${server.url}/#/jobs/${job.id}`);
  const row = page.locator('.documents li', { hasText: 'waiting.pdf' });
  await row.locator('.status', { hasText: /^queued$/ }).waitFor({ timeout: WAIT_MS });
  await page.getByRole('button', { name: 'Cancel one.pdf' }).waitFor({ timeout: WAIT_MS });
  assert.deepEqual((await client.jobDocuments(job.id)).items.map((d) => d.status), ['queued', 'queued', 'queued'], 'none has started');
  await assertAccessible(page, 'job with queued documents');
  await row.getByRole('button', { name: 'Cancel waiting.pdf' }).click();
  await row.getByRole('button', { name: 'Yes, cancel the document' }).click();
  await row.locator('.status', { hasText: /^cancelled$/ }).waitFor({ timeout: WAIT_MS });
  assert.equal(await row.getByRole('button', { name: 'Cancel waiting.pdf' }).count(), 0, 'a cancelled document has no Cancel button');
  await page.locator('.documents li', { hasText: 'one.pdf' }).locator('.status', { hasText: /^queued$/ }).waitFor({ timeout: WAIT_MS });

  await writeFile(releaseFile, '');
  await page.locator('#job-status', { hasText: /^partially succeeded$/ }).waitFor({ timeout: WAIT_MS });
  const listed = await client.jobDocuments(job.id);
  assert.deepEqual(listed.items.map((d) => [d.name, d.status]), [['one.pdf', 'succeeded'], ['two.pdf', 'succeeded'], ['waiting.pdf', 'cancelled']]);
  assert.equal(listed.items[2]?.startedAt, null, 'it never started');
  assert.equal((await ream.wait(blocker.id)).status, 'succeeded');
  for (const name of ['one.pdf', 'two.pdf']) {
    await page.locator('.documents li', { hasText: name }).locator('.status', { hasText: /^succeeded$/ }).waitFor({ timeout: WAIT_MS });
  }
});

void test('console: a job of 130 documents lists 100, Show more reads the rest; the job page never reads every result', { timeout: 90_000 }, async (t) => {
  const page = await con.page(t);
  if (!page) return;
  const { ream, server } = await con.serve('data-many');
  const client = new ReamClient({ baseUrl: server.url });
  const names = Array.from({ length: 130 }, (_, i) => `note-${String(i).padStart(3, '0')}.txt`);
  const job = await client.submit({ files: names.map((name) => ({ name, data: new TextEncoder().encode(`text of ${name}`) })) });
  await ream.wait(job.id);

  const paths: string[] = [];
  page.on('request', (request) => paths.push(new URL(request.url()).pathname));
  await page.goto(`${server.url}/#/jobs/${job.id}`);
  const rows = page.locator('.documents li');
  await page.locator('#more-documents').waitFor({ timeout: WAIT_MS });
  assert.equal(await rows.count(), 100, 'the first page');
  assert.deepEqual(await rows.locator('.name').allTextContents(), names.slice(0, 100), 'in input order');
  await page.locator('#more-documents').click();
  await rows.nth(129).waitFor({ timeout: WAIT_MS });
  assert.deepEqual(await rows.locator('.name').allTextContents(), names, 'then the rest, once each');
  assert.equal(await page.locator('#more-documents').count(), 0, 'nothing more to show');
  assert.equal(paths.filter((path) => path.endsWith('/results')).length, 0, 'no request for every result of the job');

  // A document's page reads its own result only.
  await page.getByRole('link', { name: names[120] }).click();
  await page.getByText(`text of ${names[120]}`).waitFor({ timeout: WAIT_MS });
  assert.ok(paths.some((path) => path.endsWith('/result')), 'the one result');
  assert.equal(paths.filter((path) => path.endsWith('/results')).length, 0);
});
