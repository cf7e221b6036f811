// GET /v1/errors: recent failures grouped by code, with a count and a sample each; a tenant sees
// its own, an admin every tenant's (or one it names). Real jobs fail for real: an empty file and
// a PDF over the pipeline's page limit.
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
import { issueTenantKeys } from '../support/tenant-keys.ts';

let dir: string;
let ream: Ream;
let server: RunningServer;
let a: ReamClient;
let b: ReamClient;
let admin: ReamClient;
let aJob: JobView;
let bJob: JobView;
let started: number;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-errors-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, metricsHistory: false });
  const keys = await issueTenantKeys(ream);
  [a, b, admin] = [keys.a, keys.b, keys.admin].map((apiKey) => new ReamClient({ baseUrl: server.url, apiKey })) as [ReamClient, ReamClient, ReamClient];
  started = Date.now();
  const twoPages = await makePdf({ pages: ['one', 'two'] });
  aJob = await a.submit({ options: { maxPages: 1 }, files: [{ name: 'long.pdf', data: twoPages }, { name: 'empty.pdf', data: new Uint8Array() }] });
  bJob = await b.submit({ files: [{ name: 'nothing.pdf', data: new Uint8Array() }] });
  await a.wait(aJob.id);
  await b.wait(bJob.id);
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

test('a tenant sees its own failures grouped by code, each with its job, document, message and time', async () => {
  const { items, truncated } = await a.errors();
  assert.equal(truncated, false);
  assert.deepEqual(items.map((group) => [group.code, group.count]), [['empty_file', 1], ['too_many_pages', 1]]);
  const empty = items[0];
  assert.ok(empty);
  assert.deepEqual([empty.sample.tenantId, empty.sample.jobId, empty.sample.documentName, empty.sample.pages], ['tenant-a', aJob.id, 'empty.pdf', null]);
  assert.match(empty.sample.message, /empty/i);
  assert.ok(Date.parse(empty.lastAt) >= started - 1000 && empty.firstAt === empty.lastAt);
  assert.deepEqual((await b.errors()).items.map((group) => [group.code, group.count, group.sample.jobId]), [['empty_file', 1, bJob.id]]);
});

test('an admin sees every tenant\'s, or the one it names; a tenant may not name another', async () => {
  const all = await admin.errors();
  assert.deepEqual(all.items.map((group) => [group.code, group.count]), [['empty_file', 2], ['too_many_pages', 1]]);
  assert.deepEqual((await admin.errors({ tenant: 'tenant-b' })).items.map((group) => [group.code, group.count]), [['empty_file', 1]]);
  await rejectsWithCode(a.errors({ tenant: 'tenant-b' }), 'forbidden');
  assert.equal((await a.errors({ tenant: 'tenant-a' })).items.length, 2, 'naming its own tenant is fine');
});

test('since narrows the window', async () => {
  assert.deepEqual((await admin.errors({ since: Date.now() + 60_000 })).items, []);
  assert.equal((await admin.errors({ since: started - 60_000 })).items.length, 2);
  await rejectsWithCode(admin.errors({ since: Number.MAX_SAFE_INTEGER * 4 }), 'validation_failed');
});
