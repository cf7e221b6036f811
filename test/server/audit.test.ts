// The audit log over HTTP: who did what to which job, document or worker, from where, with what
// answer; refusals (403) recorded, the log read and exported by admins only; key changes made
// with `ream keys` recorded as `cli`.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { withApiKeys } from '../../src/runtime/api-keys.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { issueApiKey } from '../../src/server/auth/api-keys.ts';
import type { AuditEntry } from '../../src/store/port.ts';
import { makePdf } from '../support/make-pdf.ts';

/** An entry as GET /v1/audit answers it: `at` as an ISO date. */
type Entry = Omit<AuditEntry, 'at' | 'details'> & { at: string; details?: Record<string, unknown> };

let dir: string;
let ream: Ream;
let server: RunningServer;
const keys = { a: '', aId: '', b: '', admin: '' };

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-audit-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } });
  const { store } = adaptersOf(ream);
  const a = await issueApiKey(store, { tenantId: 'tenant-a', name: 'a', role: 'user' });
  keys.a = a.token;
  keys.aId = a.record.id;
  keys.b = (await issueApiKey(store, { tenantId: 'tenant-b', name: 'b', role: 'user' })).token;
  keys.admin = (await issueApiKey(store, { tenantId: 'ops', name: 'admin', role: 'admin' })).token;
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

const call = (path: string, key: string | undefined, init: RequestInit = {}): Promise<Response> =>
  fetch(`${server.url}${path}`, { ...init, headers: key === undefined ? {} : { authorization: `Bearer ${key}` } });

async function audit(query: string, key = keys.admin): Promise<{ items: Entry[]; next?: string }> {
  const response = await call(`/v1/audit?${query}`, key);
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as { items: Entry[]; next?: string };
}

/** The audit entry is written as the response ends: wait until `count` entries of `query` are there. */
async function until(query: string, count: number): Promise<Entry[]> {
  for (let tries = 0; ; tries++) {
    const { items } = await audit(query);
    if (items.length >= count || tries > 100) return items;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

test('a tenant\'s job, its results and its deletion are recorded with who, where and the answer', async () => {
  const body = new FormData();
  body.append('file', new Blob([await makePdf({ pages: ['audited'] })], { type: 'application/pdf' }), 'a.pdf');
  const created = await call('/v1/jobs', keys.a, { method: 'POST', body });
  assert.equal(created.status, 202);
  const { id: jobId } = (await created.json()) as { id: string };
  await ream.wait(jobId);
  assert.equal((await call(`/v1/jobs/${jobId}/results`, keys.a)).status, 200);
  assert.equal((await call(`/v1/jobs/${jobId}`, keys.a)).status, 200, 'a read of a status is not audited');
  assert.equal((await call(`/v1/jobs/${jobId}`, keys.a, { method: 'DELETE' })).status, 204);
  assert.equal((await call(`/v1/jobs/${jobId}`, keys.b, { method: 'DELETE' })).status, 404);

  const entries = await until('tenant=tenant-a', 3);
  assert.deepEqual(entries.map((e) => [e.action, e.target, e.status]), [
    ['job.create', jobId, 202],
    ['results.download', jobId, 200],
    ['job.delete', jobId, 204],
  ]);
  assert.ok(entries.every((e) => e.subject === keys.aId && e.role === 'user' && e.ip === '127.0.0.1'));
  const [byB] = await until('tenant=tenant-b&action=job.delete', 1);
  assert.deepEqual([byB?.target, byB?.status], [jobId, 404], 'another tenant\'s attempt is recorded under its own tenant');
});

test('refusals are recorded; only admins read the log; pages and the JSON-lines export agree', async () => {
  assert.equal((await call('/v1/workers', keys.b)).status, 403);
  assert.equal((await call('/v1/audit', keys.b)).status, 403);
  assert.equal((await call('/v1/audit', undefined)).status, 401);
  const denied = await until('tenant=tenant-b&action=access.denied', 2);
  assert.deepEqual(denied.map((e) => e.details?.route), ['GET /v1/workers', 'GET /v1/audit']);

  const all = (await audit('limit=1000')).items;
  assert.ok(all.length >= 6);
  const pages: Entry[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await audit(`limit=2${after === undefined ? '' : `&after=${after}`}`);
    pages.push(...page.items);
    if (page.next === undefined) break;
    after = page.next;
  }
  assert.deepEqual(pages.map((e) => e.id), all.map((e) => e.id), 'pages in order, none lost, none twice');
  const exported = await call('/v1/audit?format=jsonl', keys.admin);
  assert.match(exported.headers.get('content-type') ?? '', /application\/x-ndjson/);
  const lines = (await exported.text()).trim().split('\n').map((line) => JSON.parse(line) as Entry);
  assert.deepEqual(lines.map((e) => e.id).slice(0, all.length), all.map((e) => e.id));
  assert.equal((await call('/v1/audit?since=yesterday', keys.admin)).status, 400);
  const future = await audit(`since=${Date.now() + 3_600_000}`);
  assert.deepEqual(future.items, []);
});

test('ream keys: creating and revoking a key are recorded as cli', async () => {
  const { record } = await withApiKeys({ dataDir: join(dir, 'data') }, (k) => k.create({ tenantId: 'tenant-c', name: 'ci', role: 'user' }));
  await withApiKeys({ dataDir: join(dir, 'data') }, (k) => k.revoke(record.id));
  const entries = await until('tenant=tenant-c', 2);
  assert.deepEqual(entries.map((e) => [e.action, e.target, e.subject, e.status]), [
    ['key.create', record.id, 'cli', 0],
    ['key.revoke', record.id, 'cli', 0],
  ]);
  assert.equal(entries[0]?.details?.name, 'ci');
  assert.doesNotMatch(JSON.stringify(entries), /ream_[0-9a-f]{16}_/, 'never the key itself');
});
