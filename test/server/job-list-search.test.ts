// GET /v1/jobs?q=&sort=: a tenant's jobs searched by id prefix or pipeline name, newest or oldest
// first, a page at a time with the cursor of that order.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ReamClient, type JobView } from '../../src/client/index.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { makePdf } from '../support/make-pdf.ts';

let dir: string;
let ream: Ream;
let server: RunningServer;
let client: ReamClient;
let jobs: JobView[];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-job-list-search-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, metricsHistory: false });
  client = new ReamClient({ baseUrl: server.url });
  const file = { name: 'a.pdf', data: await makePdf({ pages: ['x'] }) };
  jobs = [];
  for (let i = 0; i < 3; i++) jobs.push(await client.submit({ files: [file] }));
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

const ids = (page: { items: JobView[] }): string[] => page.items.map((job) => job.id);

test('q finds a job by the start of its id, in either case, and by its pipeline', async () => {
  const [first] = jobs;
  assert.ok(first);
  const prefix = first.id.slice(0, 12);
  assert.deepEqual(ids(await client.listJobs({ q: prefix.toUpperCase() })), jobs.filter((job) => job.id.startsWith(prefix)).map((job) => job.id).reverse());
  assert.deepEqual(ids(await client.listJobs({ q: first.pipeline.slice(1) })), jobs.map((job) => job.id).reverse());
  assert.deepEqual(ids(await client.listJobs({ q: 'no such job' })), []);
});

test('sort=created lists oldest first a page at a time; a cursor of the other order is refused', async () => {
  const seen: string[] = [];
  let page = await client.listJobs({ sort: 'created', limit: 2 });
  seen.push(...ids(page));
  assert.ok(page.nextCursor);
  await rejectsWithCode(client.listJobs({ limit: 2, cursor: page.nextCursor }), 'validation_failed');
  page = await client.listJobs({ sort: 'created', limit: 2, cursor: page.nextCursor });
  seen.push(...ids(page));
  assert.equal(page.nextCursor, null);
  const created = jobs.map((job) => job.id);
  const newest = ids(await client.listJobs({ sort: '-created' }));
  assert.deepEqual(seen, [...newest].reverse());
  assert.deepEqual(new Set(seen), new Set(created));
});

test('total=true counts the jobs of the list, every page of it, searched or not', async () => {
  const [first] = jobs;
  assert.ok(first);
  const page = await client.listJobs({ limit: 1, total: true });
  assert.equal(page.items.length, 1);
  assert.deepEqual(page.total, { count: jobs.length, exact: true });
  assert.deepEqual((await client.listJobs({ q: first.id.slice(0, 12), total: true })).total, { count: 1, exact: true });
  assert.deepEqual((await client.listJobs({ q: 'no such job', total: true })).total, { count: 0, exact: true });
  assert.deepEqual((await client.listJobs({ status: 'failed', total: true })).total, { count: 0, exact: true });
  assert.equal((await client.listJobs({ limit: 1 })).total, undefined, 'not counted unless asked');
  const refused = await fetch(`${server.url}/v1/jobs?total=yes`);
  assert.equal(refused.status, 400);
});

test('a sort the API does not know is validation_failed', async () => {
  const response = await fetch(`${server.url}/v1/jobs?sort=name`);
  assert.equal(response.status, 400);
  assert.equal(((await response.json()) as { code: string }).code, 'validation_failed');
});

test('idempotencyKey takes sort and status, and refuses q and cursor rather than ignoring them', async () => {
  const file = { name: 'k.pdf', data: await makePdf({ pages: ['k'] }) };
  const keyed = await client.submit({ files: [file], idempotencyKey: 'list-search-key' });
  try {
    assert.deepEqual(ids(await client.listJobs({ idempotencyKey: 'list-search-key', sort: 'created' })), [keyed.id]);
    assert.deepEqual(ids(await client.listJobs({ idempotencyKey: 'list-search-key', status: 'succeeded' })), [], 'the job is queued: nothing works here');
    for (const query of [`q=${keyed.id.slice(0, 12)}`, 'q=no-such-job', 'cursor=abc']) {
      const response = await fetch(`${server.url}/v1/jobs?idempotencyKey=list-search-key&${query}`);
      assert.equal(response.status, 400, query);
      const problem = (await response.json()) as { code: string; detail?: string; message?: string };
      assert.equal(problem.code, 'validation_failed');
      assert.match(JSON.stringify(problem), /idempotencyKey names one job/);
    }
  } finally {
    // The other tests count this tenant's jobs.
    await ream.cancel(keyed.id);
    await ream.deleteJob(keyed.id);
  }
});
