// GET /v1/jobs?tenant=: an admin lists another tenant's jobs, or every tenant's with `*` (each
// job says whose it is); anyone else naming another tenant is refused.
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
let admin: ReamClient;
let aJobs: JobView[];
let bJob: JobView;
let adminKey: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-job-list-tenants-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, metricsHistory: false });
  const keys = await issueTenantKeys(ream);
  a = new ReamClient({ baseUrl: server.url, apiKey: keys.a });
  const b = new ReamClient({ baseUrl: server.url, apiKey: keys.b });
  admin = new ReamClient({ baseUrl: server.url, apiKey: keys.admin });
  adminKey = keys.admin;
  const file = { name: 'a.pdf', data: await makePdf({ pages: ['x'] }) };
  aJobs = [await a.submit({ files: [file] }), await a.submit({ files: [file] })];
  bJob = await b.submit({ files: [file] });
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

test('an admin lists its own tenant by default, another by name, every tenant with *, a page at a time', async () => {
  assert.deepEqual((await admin.listJobs()).items, [], 'the admin\'s own tenant has none');
  const ofA = await admin.listJobs({ tenant: 'tenant-a' });
  assert.deepEqual(ofA.items.map((job) => [job.id, job.tenantId]), [...aJobs].reverse().map((job) => [job.id, 'tenant-a']));
  const first = await admin.listJobs({ tenant: '*', limit: 2 });
  assert.deepEqual(first.items.map((job) => job.id), [bJob.id, aJobs[1]?.id]);
  assert.ok(first.nextCursor);
  const second = await admin.listJobs({ tenant: '*', limit: 2, cursor: first.nextCursor });
  assert.deepEqual(second.items.map((job) => [job.id, job.tenantId]), [[aJobs[0]?.id, 'tenant-a']]);
  assert.equal(second.nextCursor, null);
});

test('GET /v1/me says who the credentials are', async () => {
  assert.deepEqual(await admin.me(), { tenantId: 'ops', role: 'admin' });
  assert.deepEqual(await a.me(), { tenantId: 'tenant-a', role: 'user' });
});

test('a tenant may name only itself', async () => {
  assert.equal((await a.listJobs({ tenant: 'tenant-a' })).items.length, 2);
  await rejectsWithCode(a.listJobs({ tenant: 'tenant-b' }), 'forbidden');
  await rejectsWithCode(a.listJobs({ tenant: '*' }), 'forbidden');
});

test('"*" is every tenant where a list takes it (jobs, errors), refused where one tenant is meant (search, usage, grants, quotas)', async () => {
  const call = (path: string, init: RequestInit = {}): Promise<Response> =>
    fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json', ...(init.headers ?? {}) } });
  assert.equal((await call('/v1/errors?tenant=*')).status, 200);
  for (const [path, init] of [
    ['/v1/search?q=x&tenant=*', {}],
    ['/v1/usage?tenant=*', {}],
    ['/v1/tenants/*/credits', { method: 'POST', body: JSON.stringify({ amount: 5, reason: 'all?' }) }],
    ['/v1/tenants/%2A/quotas', { method: 'PUT', body: JSON.stringify({ pagesPerDay: 1 }) }],
  ] as const) {
    const answer = await call(path, init);
    assert.equal(answer.status, 400, `${path}: ${await answer.clone().text()}`);
    assert.equal(((await answer.json()) as { code: string }).code, 'validation_failed');
  }
  assert.ok(!(await ream.tenants.listTenants({ limit: 1000 })).some((t) => t.tenantId === '*'), 'no account named "*" was made');
});
