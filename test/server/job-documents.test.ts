// GET /v1/jobs/:id/documents: a job's documents in input order, queued ones included, a page at a
// time; the SDK's page and all-pages readers over it; and one document's result.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { pipelines } from '../fixtures/slow-pipeline.ts';
import { waitForMark } from '../support/gate.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';

let dir: string;
let ream: Ream;
let server: RunningServer;
let client: ReamClient;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-job-documents-'));
  // One task at a time: a gated chunk of another job holds it, so a job's documents stay queued.
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, concurrency: 1, pipelines });
  server = await startServer({ ream, host: '127.0.0.1', port: 0 });
  client = new ReamClient({ baseUrl: server.url });
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

async function problemCode(path: string): Promise<[number, string]> {
  const response = await fetch(`${server.url}${path}`);
  return [response.status, ((await response.json()) as { code: string }).code];
}

void test('a gated job lists every document in input order, the ones not started as queued, a page at a time', { timeout: 60_000 }, async () => {
  const releaseFile = join(dir, 'release');
  const markDir = join(dir, 'marks');
  const blocker = await client.submit({ files: [{ name: 'blocker.pdf', data: await makePdf({ pages: ['blocker'] }) }], pipeline: 'gated', options: { releaseFile, markDir } });
  await waitForMark(markDir, 'started', (text) => text.includes('blocker'), 30_000);
  const names = ['first.pdf', 'second.pdf', 'third.pdf'];
  const job = await client.submit({
    files: await Promise.all(names.map(async (name) => ({ name, data: await makePdf({ pages: numberedPages(name, 2) }) }))),
    pipeline: 'gated',
    options: { chunkPages: 1, releaseFile },
  });

  // While the gate holds the only task slot, no document of the job has started.
  const page = await client.jobDocuments(job.id);
  assert.deepEqual(page.items.map((d) => d.name), names, 'input order, by name');
  assert.deepEqual(page.items.map((d) => d.ordinal), [0, 1, 2]);
  assert.equal(page.nextCursor, null, 'one page holds them all');
  assert.deepEqual(page.items.map((d) => d.status), ['queued', 'queued', 'queued']);
  const third = page.items[2];
  assert.ok(third);
  assert.deepEqual([third.pagesTotal, third.chunksTotal, third.error, third.startedAt, third.finishedAt], [null, null, null, null, null]);
  assert.equal(Object.hasOwn(third, 'parentId'), false);

  // Pages of 2, then 1: the cursor goes on after the last row of the page before.
  const first = await client.jobDocuments(job.id, { limit: 2 });
  assert.deepEqual(first.items.map((d) => d.name), names.slice(0, 2));
  assert.ok(first.nextCursor !== null);
  const second = await client.jobDocuments(job.id, { limit: 2, cursor: first.nextCursor });
  assert.deepEqual([second.items.map((d) => d.name), second.nextCursor], [names.slice(2), null]);
  const afterOrdinal = await client.jobDocuments(job.id, { cursor: '0' });
  assert.deepEqual(afterOrdinal.items.map((d) => d.name), names.slice(1), 'a bare ordinal: the documents after it');
  for (const pageSize of [1000, 2, 1]) {
    const all: string[] = [];
    for await (const doc of client.allJobDocuments(job.id, { pageSize })) all.push(doc.name);
    assert.deepEqual(all, names, `all of them, ${pageSize} a page`);
  }

  // One document's result: none while it is queued.
  assert.deepEqual(await problemCode(`/v1/jobs/${job.id}/documents/${third.id}/result`), [404, 'not_found']);

  await writeFile(releaseFile, '');
  await ream.wait(job.id);
  await ream.wait(blocker.id);
  // Once ended, the same object as its item among the job's results, and no other document's.
  const results = await client.results(job.id);
  for (const doc of page.items) {
    const one = await client.documentResult(job.id, doc.id);
    assert.deepEqual(one, results.find((r) => r.documentId === doc.id), doc.name);
    assert.equal(one.source, doc.name);
    // Without its pages (a long table's rows are read in windows instead): the rest is the same.
    const bare = await client.documentResult(job.id, doc.id, { pages: 'none' });
    assert.deepEqual(bare, { ...one, pages: [], pagesOmitted: true });
  }
  const [blockerDoc] = (await client.jobDocuments(blocker.id)).items;
  assert.ok(blockerDoc);
  assert.equal((await client.documentResult(blocker.id, blockerDoc.id)).source, 'blocker.pdf');
  assert.deepEqual(await problemCode(`/v1/jobs/${job.id}/documents/${blockerDoc.id}/result`), [404, 'not_found'], 'a document of another job');
  const ended = await client.jobDocuments(job.id);
  assert.deepEqual(ended.items.map((d) => d.status), ['succeeded', 'succeeded', 'succeeded']);
  for (const doc of ended.items) {
    assert.deepEqual([doc.pagesTotal, doc.chunksTotal], [2, 2], doc.name);
    assert.ok(doc.startedAt !== null && doc.finishedAt !== null && Date.parse(doc.finishedAt) >= Date.parse(doc.startedAt), `${doc.name}: ISO times`);
  }
});

void test('a bad limit or cursor is validation_failed; an unknown job is not_found', async () => {
  const job = await client.submit({ files: [{ name: 'one.pdf', data: await makePdf({ pages: ['one'] }) }] });
  assert.deepEqual(await problemCode(`/v1/jobs/${job.id}/documents?limit=0`), [400, 'validation_failed']);
  assert.deepEqual(await problemCode(`/v1/jobs/${job.id}/documents?limit=1001`), [400, 'validation_failed']);
  assert.deepEqual(await problemCode(`/v1/jobs/${job.id}/documents?cursor=nope`), [400, 'validation_failed']);
  assert.deepEqual(await problemCode('/v1/jobs/job_nope/documents'), [404, 'not_found']);
  assert.equal((await client.jobDocuments(job.id, { limit: 1000 })).items.length, 1, 'the largest page is allowed');
  await ream.wait(job.id);
});
