// Credits and quotas over HTTP, with two tenants and an admin: 402 and 429 with their numbers at
// submit, the admin routes refused to tenants, a tenant reading only its own balance, grants
// audited, the ledger exported as JSON lines.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { ReamHttpError } from '../../src/client/errors.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { makePdf } from '../support/make-pdf.ts';
import { issueTenantKeys, type TenantKeys } from '../support/tenant-keys.ts';
import { issueApiKey } from '../../src/server/auth/api-keys.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';

let dir: string;
let ream: Ream;
let server: RunningServer;
let keys: TenantKeys;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-tenants-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, credits: { prices: { page: 3 } } });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } });
  keys = await issueTenantKeys(ream);
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

function call(path: string, key: string, init: { method?: string; json?: unknown; body?: FormData } = {}): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${key}` };
  if (init.json !== undefined) headers['content-type'] = 'application/json';
  return fetch(`${server.url}${path}`, {
    method: init.method ?? 'GET', headers,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : init.body ? { body: init.body } : {}),
  });
}

async function json<T>(response: Response, status: number): Promise<T> {
  const text = await response.text();
  assert.equal(response.status, status, text);
  return JSON.parse(text) as T;
}

async function submit(key: string, pages: string[]): Promise<Response> {
  const body = new FormData();
  body.append('file', new Blob([await makePdf({ pages })], { type: 'application/pdf' }), 'a.pdf');
  return call('/v1/jobs', key, { method: 'POST', body });
}

interface Problem { code: string; status: number; details?: Record<string, unknown> }
interface Account { tenantId: string; balance: number; quotas: Record<string, number>; usage: { pagesToday: number; unfinishedJobs: number; storageBytes: number } }

test('a submit past the balance is 402 with the numbers; after a grant it runs and is charged what it read', async () => {
  const refused = await json<Problem>(await submit(keys.a, ['one', 'two']), 402);
  assert.equal(refused.code, 'insufficient_credits');
  assert.deepEqual(refused.details, { balance: 0, needed: 3 });

  const granted = await json<{ balance: number; entry: { kind: string; amount: number; reason: string } }>(
    await call('/v1/tenants/tenant-a/credits', keys.admin, { method: 'POST', json: { amount: 20, reason: 'welcome', key: 'welcome-1' } }), 201);
  assert.deepEqual([granted.balance, granted.entry.kind, granted.entry.amount, granted.entry.reason], [20, 'grant', 20, 'welcome']);
  const repeat = await json<{ balance: number }>(await call('/v1/tenants/tenant-a/credits', keys.admin, { method: 'POST', json: { amount: 20, reason: 'welcome', key: 'welcome-1' } }), 200);
  assert.equal(repeat.balance, 20, 'a repeated key grants nothing more');
  const reused = await json<Problem & { details: { differing: string[] } }>(
    await call('/v1/tenants/tenant-a/credits', keys.admin, { method: 'POST', json: { amount: 200, reason: 'welcome', key: 'welcome-1' } }), 422);
  assert.equal(reused.code, 'idempotency_conflict', 'the key with another amount is another grant');
  assert.deepEqual(reused.details.differing, ['amount']);
  assert.equal((await json<{ balance: number }>(await call('/v1/tenants/tenant-a', keys.admin), 200)).balance, 20, 'the refused grant granted nothing');

  const job = await json<{ id: string }>(await submit(keys.a, ['one', 'two']), 202);
  await ream.wait(job.id);
  const own = await json<Account>(await call('/v1/credits', keys.a), 200);
  assert.equal(own.tenantId, 'tenant-a');
  assert.equal(own.balance, 20 - 6, 'two pages at 3 credits');
  assert.equal(own.usage.pagesToday, 2);
  assert.equal((await json<Account>(await call('/v1/credits', keys.b), 200)).balance, 0, 'tenant b sees its own balance, not a\'s');
  assert.equal((await json<Problem>(await submit(keys.b, ['b']), 402)).code, 'insufficient_credits', 'b cannot spend a\'s credits');

  const ledger = await json<{ items: Array<{ kind: string; amount: number; jobId: string | null }> }>(await call('/v1/tenants/tenant-a/ledger', keys.admin), 200);
  assert.deepEqual(ledger.items.map((e) => [e.kind, e.amount]), [['grant', 20], ['reserve', -3], ['reserve', -3], ['finalize', 6 - 6]]);
  const exported = await call('/v1/tenants/tenant-a/ledger?format=jsonl', keys.admin);
  assert.match(exported.headers.get('content-type') ?? '', /application\/x-ndjson/);
  const lines = (await exported.text()).trim().split('\n').map((line) => JSON.parse(line) as { kind: string; tenantId: string });
  assert.deepEqual(lines.map((e) => [e.kind, e.tenantId]), [['grant', 'tenant-a'], ['reserve', 'tenant-a'], ['reserve', 'tenant-a'], ['finalize', 'tenant-a']]);

  const grants = await ream.listAudit({ action: 'credits.grant', limit: 10 });
  assert.equal(grants.length, 1);
  assert.deepEqual([grants[0]?.tenantId, grants[0]?.role, grants[0]?.ip, (grants[0]?.details as { reason: string }).reason], ['tenant-a', 'admin', '127.0.0.1', 'welcome']);
});

test('quotas: set by an admin, a submit past one is 429 with the limit and what is used', async () => {
  await call('/v1/tenants/tenant-b/credits', keys.admin, { method: 'POST', json: { amount: 100, reason: 'plan' } });
  const account = await json<Account>(await call('/v1/tenants/tenant-b/quotas', keys.admin, { method: 'PUT', json: { pagesPerDay: 2, concurrentJobs: 5 } }), 200);
  assert.deepEqual(account.quotas, { pagesPerDay: 2, concurrentJobs: 5 });
  const job = await json<{ id: string }>(await submit(keys.b, ['one', 'two']), 202);
  await ream.wait(job.id);
  const refused = await json<Problem>(await submit(keys.b, ['three']), 429);
  assert.equal(refused.code, 'quota_exceeded');
  assert.deepEqual(refused.details, { quota: 'pagesPerDay', limit: 2, used: 2, needed: 1 });
  // Deleting the job gives none of its pages back: the day's pages were processed.
  assert.equal((await call(`/v1/jobs/${job.id}`, keys.b, { method: 'DELETE' })).status, 204);
  const again = await json<Problem>(await submit(keys.b, ['three']), 429);
  assert.deepEqual(again.details, { quota: 'pagesPerDay', limit: 2, used: 2, needed: 1 });
  assert.equal((await json<Problem>(await call('/v1/tenants/tenant-b/quotas', keys.admin, { method: 'PUT', json: { pagesPerDay: -1 } }), 400)).code, 'validation_failed');
  assert.equal((await json<Problem>(await call('/v1/tenants/tenant-b/quotas', keys.admin, { method: 'PUT', json: { bogus: 1 } }), 400)).code, 'validation_failed');
  await json<Account>(await call('/v1/tenants/tenant-b/quotas', keys.admin, { method: 'PUT', json: {} }), 200);
  await json<{ id: string }>(await submit(keys.b, ['three']), 202);

  const listed = await json<{ items: Account[]; next?: string }>(await call('/v1/tenants', keys.admin), 200);
  assert.deepEqual([listed.items.map((t) => t.tenantId), listed.next], [['tenant-a', 'tenant-b'], undefined]);
  // A page at a time: `next` (the last tenant listed) as `after` asks for the ones after it.
  const first = await json<{ items: Account[]; next?: string }>(await call('/v1/tenants?limit=1', keys.admin), 200);
  assert.deepEqual([first.items.map((t) => t.tenantId), first.next], [['tenant-a'], 'tenant-a']);
  const second = await json<{ items: Account[]; next?: string }>(await call('/v1/tenants?limit=1&after=tenant-a', keys.admin), 200);
  assert.deepEqual(second.items.map((t) => t.tenantId), ['tenant-b']);
  assert.equal((await json<Problem>(await call('/v1/tenants?limit=0', keys.admin), 400)).code, 'validation_failed');
  const b = await json<Account>(await call('/v1/tenants/tenant-b', keys.admin), 200);
  assert.ok(b.usage.storageBytes > 0 && b.usage.pagesToday >= 2);
  // Each change of quotas is audited under tenant-b (not the admin's tenant), with its numbers.
  const audited = (await ream.listAudit({ action: 'quotas.set', tenantId: 'tenant-b', limit: 100 })).at(-1);
  assert.deepEqual([audited?.target, audited?.role, audited?.status], ['tenant-b', 'admin', 200]);
  assert.deepEqual((audited?.details as { quotas: unknown }).quotas, {}, 'the last change lifted every limit');
  assert.ok(Object.keys((audited?.details as { before: object }).before).length > 0, 'and says which there were');
});

test('tenants are refused every admin route, whoever they name', async () => {
  const attempts: Array<[string, string, unknown?]> = [
    ['GET', '/v1/tenants'],
    ['GET', '/v1/tenants/tenant-a'],
    ['GET', '/v1/tenants/tenant-b'],
    ['POST', '/v1/tenants/tenant-a/credits', { amount: 1000, reason: 'free money' }],
    ['POST', '/v1/tenants/tenant-b/credits', { amount: 1000, reason: 'free money' }],
    ['PUT', '/v1/tenants/tenant-a/quotas', {}],
    ['GET', '/v1/tenants/tenant-a/ledger'],
    ['GET', '/v1/tenants/tenant-b/ledger?format=jsonl'],
  ];
  const before = await ream.tenants.tenant('tenant-a');
  for (const [method, path, body] of attempts) {
    const response = await call(path, keys.a, { method, ...(body === undefined ? {} : { json: body }) });
    assert.equal(response.status, 403, `${method} ${path}`);
    assert.equal(((await response.json()) as Problem).code, 'forbidden');
  }
  assert.equal((await ream.tenants.tenant('tenant-a')).balance, before.balance, 'no refused grant moved a balance');
  assert.equal((await call('/v1/tenants/tenant-a/credits', keys.admin, { method: 'POST', json: { amount: 0, reason: 'x' } })).status, 400);
  assert.equal((await call('/v1/tenants/tenant-a/credits', keys.admin, { method: 'POST', json: { amount: 5 } })).status, 400, 'a grant needs a reason');
});

test('the OpenAPI document lists the routes and the new codes', async () => {
  const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>>; components: { schemas: { Problem: { properties: { code: { enum: string[] } } } } } };
  for (const path of ['/v1/credits', '/v1/tenants', '/v1/tenants/{tenant}', '/v1/tenants/{tenant}/credits', '/v1/tenants/{tenant}/quotas', '/v1/tenants/{tenant}/ledger']) assert.ok(doc.paths[path], path);
  assert.ok(doc.paths['/v1/jobs']?.post?.responses['402'] && doc.paths['/v1/jobs'].post.responses['429']);
  for (const code of ['insufficient_credits', 'quota_exceeded', 'in_use']) assert.ok(doc.components.schemas.Problem.properties.code.enum.includes(code), code);
});

test('the SDK: a tenant reads its credits, an admin grants, sets quotas and reads the ledger; a tenant is refused', async () => {
  const admin = new ReamClient({ baseUrl: server.url, apiKey: keys.admin });
  const a = new ReamClient({ baseUrl: server.url, apiKey: keys.a });
  const before = (await a.credits()).balance;
  assert.equal((await admin.grantCredits('tenant-a', { amount: 7, reason: 'sdk' })).balance, before + 7);
  assert.equal((await a.credits()).balance, before + 7);
  assert.deepEqual((await a.credits()).prices, { page: 3 });
  assert.deepEqual((await admin.setQuotas('tenant-a', { concurrentJobs: 9 })).quotas, { concurrentJobs: 9 });
  assert.equal((await admin.tenant('tenant-a')).quotas.concurrentJobs, 9);
  assert.ok((await admin.tenants()).some((t) => t.tenantId === 'tenant-a'));
  const entries = [];
  for await (const entry of admin.ledger('tenant-a')) entries.push(entry);
  assert.equal(entries.at(-1)?.reason, 'sdk');
  await assert.rejects(a.grantCredits('tenant-a', { amount: 1, reason: 'self' }), (error: unknown) => error instanceof ReamHttpError && error.httpStatus === 403 && error.code === 'forbidden');
  await assert.rejects(a.tenant('tenant-b'), (error: unknown) => error instanceof ReamHttpError && error.httpStatus === 403 && error.code === 'forbidden');
});

test('the storage quota refuses documents and tus uploads past it, with the numbers', async () => {
  const used = (await ream.tenants.tenant('tenant-a')).usage.storageBytes;
  await json<Account>(await call('/v1/tenants/tenant-a/quotas', keys.admin, { method: 'PUT', json: { storageBytes: used + 100 } }), 200);
  const body = new FormData();
  body.append('file', new Blob([await makePdf({ pages: ['too big for the quota'] })], { type: 'application/pdf' }), 'big.pdf');
  const refused = await json<Problem>(await call('/v1/documents', keys.a, { method: 'POST', body }), 429);
  assert.equal(refused.code, 'quota_exceeded');
  assert.equal(refused.details?.quota, 'storageBytes');
  assert.equal(refused.details?.limit, used + 100);
  assert.equal(refused.details?.used, used);
  // A job's files too, by the request's length, before any is stored (it went past the quota).
  const job = new FormData();
  job.append('file', new Blob([await makePdf({ pages: ['too big for the quota too'] })], { type: 'application/pdf' }), 'job.pdf');
  const refusedJob = await json<Problem>(await call('/v1/jobs', keys.a, { method: 'POST', body: job }), 429);
  assert.deepEqual([refusedJob.code, refusedJob.details?.quota], ['quota_exceeded', 'storageBytes']);
  assert.equal((await ream.tenants.tenant('tenant-a')).usage.storageBytes, used, 'nothing was stored');

  const tus = await fetch(`${server.url}/v1/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys.a}`, 'tus-resumable': '1.0.0', 'upload-length': '5000', 'upload-metadata': `filename ${Buffer.from('big.pdf').toString('base64')}` },
  });
  assert.equal(tus.status, 429, await tus.clone().text());
  assert.equal(((await tus.json()) as Problem).code, 'quota_exceeded');
  const small = await fetch(`${server.url}/v1/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys.b}`, 'tus-resumable': '1.0.0', 'upload-length': '5000', 'upload-metadata': `filename ${Buffer.from('b.pdf').toString('base64')}` },
  });
  assert.equal(small.status, 201, 'another tenant\'s quota is its own');

  // A deferred length counts 0 at creation: the quota is held when the bytes have come.
  const deferred = await fetch(`${server.url}/v1/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${keys.a}`, 'tus-resumable': '1.0.0', 'upload-defer-length': '1', 'upload-metadata': `filename ${Buffer.from('deferred.pdf').toString('base64')}` },
  });
  assert.equal(deferred.status, 201, 'created: its length is not known yet');
  const bytes = Buffer.from(await makePdf({ pages: ['deferred past the quota'] }));
  const patched = await fetch(new URL(deferred.headers.get('location') ?? '', server.url), {
    method: 'PATCH',
    headers: { authorization: `Bearer ${keys.a}`, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'upload-length': String(bytes.length), 'content-type': 'application/offset+octet-stream' },
    body: bytes,
  });
  assert.equal(patched.status, 429, await patched.clone().text());
  assert.equal(((await patched.json()) as Problem).code, 'quota_exceeded');
  assert.equal((await ream.tenants.tenant('tenant-a')).usage.storageBytes, used, 'nothing was stored');

  // Two uploads that each fit alone, finishing at the same moment: one is stored, the other
  // refused. (Deferred lengths: declared ones would count each other at creation already.)
  const [one, two] = [Buffer.from(await makePdf({ pages: ['first of two at once'] })), Buffer.from(await makePdf({ pages: ['second of two at once'] }))];
  await json<Account>(await call('/v1/tenants/tenant-a/quotas', keys.admin, { method: 'PUT', json: { storageBytes: used + one.length + two.length - 1 } }), 200);
  const created = await Promise.all([one, two].map(async (_bytes, i) => {
    const answer = await fetch(`${server.url}/v1/uploads`, {
      method: 'POST',
      headers: { authorization: `Bearer ${keys.a}`, 'tus-resumable': '1.0.0', 'upload-defer-length': '1', 'upload-metadata': `filename ${Buffer.from(`both-${i}.pdf`).toString('base64')}` },
    });
    assert.equal(answer.status, 201);
    return new URL(answer.headers.get('location') ?? '', server.url);
  }));
  const finished = await Promise.all([one, two].map((bytes, i) => fetch(created[i] ?? '', {
    method: 'PATCH',
    headers: { authorization: `Bearer ${keys.a}`, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'upload-length': String(bytes.length), 'content-type': 'application/offset+octet-stream' },
    body: bytes,
  })));
  assert.deepEqual(finished.map((answer) => answer.status).sort(), [204, 429]);
  assert.ok((await ream.tenants.tenant('tenant-a')).usage.storageBytes <= used + one.length + two.length - 1, 'within the quota');
  await json<Account>(await call('/v1/tenants/tenant-a/quotas', keys.admin, { method: 'PUT', json: {} }), 200);
});

test('a small file near the storage quota is stored: the multipart framing is not counted as its bytes', async () => {
  const used = (await ream.tenants.tenant('tenant-a')).usage.storageBytes;
  await json<Account>(await call('/v1/tenants/tenant-a/quotas', keys.admin, { method: 'PUT', json: { storageBytes: used + 100 } }), 200);
  const body = new FormData();
  body.append('file', new Blob(['a small note, 32 bytes long....\n'], { type: 'text/plain' }), 'note.txt');
  await json<{ items: unknown[] }>(await call('/v1/documents', keys.a, { method: 'POST', body }), 201);
  const job = new FormData();
  job.append('file', new Blob(['another note of 32 bytes long..\n'], { type: 'text/plain' }), 'other.txt');
  await json<{ id: string }>(await call('/v1/jobs', keys.a, { method: 'POST', body: job }), 202);
  const past = new FormData();
  past.append('file', new Blob(['x'.repeat(60)], { type: 'text/plain' }), 'past.txt');
  const refused = await json<Problem>(await call('/v1/documents', keys.a, { method: 'POST', body: past }), 429);
  assert.deepEqual([refused.details?.quota, refused.details?.used, refused.details?.needed], ['storageBytes', used + 64, 60], 'counted by its own bytes');
  await json<Account>(await call('/v1/tenants/tenant-a/quotas', keys.admin, { method: 'PUT', json: {} }), 200);
});

test('the storage quota counts unfinished uploads: bytes left short of their end cannot pile up past it', async () => {
  const used = (await ream.tenants.tenant('tenant-a')).usage.storageBytes;
  await json<Account>(await call('/v1/tenants/tenant-a/quotas', keys.admin, { method: 'PUT', json: { storageBytes: used + 3000 } }), 200);
  const tusHeaders = (key: string, extra: Record<string, string>): Record<string, string> => ({ authorization: `Bearer ${key}`, 'tus-resumable': '1.0.0', ...extra });
  const create = (key: string, length: string | undefined): Promise<Response> => fetch(`${server.url}/v1/uploads`, {
    method: 'POST',
    headers: tusHeaders(key, length === undefined ? { 'upload-defer-length': '1' } : { 'upload-length': length }),
  });
  const first = await create(keys.a, '2000');
  assert.equal(first.status, 201);
  const firstUrl = new URL(first.headers.get('location') ?? '', server.url);
  const part = await fetch(firstUrl, { method: 'PATCH', headers: tusHeaders(keys.a, { 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }), body: Buffer.alloc(1000, 1) });
  assert.equal(part.status, 204, 'half of it came and it waits for the rest');

  const second = await create(keys.a, '2000');
  assert.equal(second.status, 429, 'the unfinished one holds 2,000 of the 3,000 left');
  const problem = (await second.json()) as Problem;
  assert.deepEqual([problem.code, problem.details?.quota, problem.details?.used, problem.details?.needed], ['quota_exceeded', 'storageBytes', used + 2000, 2000]);
  assert.equal((await create(keys.b, '2000')).status, 201, 'another tenant\'s uploads are its own');

  // A deferred length counts what it brings, PATCH by PATCH.
  const deferred = await create(keys.a, undefined);
  assert.equal(deferred.status, 201);
  const deferredUrl = new URL(deferred.headers.get('location') ?? '', server.url);
  const small = await fetch(deferredUrl, { method: 'PATCH', headers: tusHeaders(keys.a, { 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }), body: Buffer.alloc(600, 2) });
  assert.equal(small.status, 204);
  const past = await fetch(deferredUrl, { method: 'PATCH', headers: tusHeaders(keys.a, { 'upload-offset': '600', 'content-type': 'application/offset+octet-stream' }), body: Buffer.alloc(600, 3) });
  assert.equal(past.status, 429, await past.clone().text());
  assert.equal(((await past.json()) as Problem).details?.needed, 1200);

  // Ending the unfinished uploads gives the room back.
  for (const url of [firstUrl, deferredUrl]) assert.equal((await fetch(url, { method: 'DELETE', headers: tusHeaders(keys.a, {}) })).status, 204);
  const again = await create(keys.a, '2000');
  assert.equal(again.status, 201);
  assert.equal((await fetch(new URL(again.headers.get('location') ?? '', server.url), { method: 'DELETE', headers: tusHeaders(keys.a, {}) })).status, 204);

  // Creations sent at once each count the others: room for two of six.
  const atOnce = await Promise.all(Array.from({ length: 6 }, () => create(keys.a, '1200')));
  assert.deepEqual(atOnce.map((answer) => answer.status).sort(), [201, 201, 429, 429, 429, 429]);
  await json<Account>(await call('/v1/tenants/tenant-a/quotas', keys.admin, { method: 'PUT', json: {} }), 200);
});

test('a known-length upload is checked again at each PATCH: a storage quota lowered meanwhile refuses its next bytes, not its end', async () => {
  const tus = { authorization: `Bearer ${keys.a}`, 'tus-resumable': '1.0.0' };
  // What counts already (stored, and uploads the tests before left unfinished), as a refusal says it.
  await json<Account>(await call('/v1/tenants/tenant-a/quotas', keys.admin, { method: 'PUT', json: { storageBytes: 1 } }), 200);
  const probe = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { ...tus, 'upload-length': '2000' } });
  const used = Number(((await json<Problem>(probe, 429)).details?.used));
  await json<Account>(await call('/v1/tenants/tenant-a/quotas', keys.admin, { method: 'PUT', json: { storageBytes: used + 3000 } }), 200);
  const created = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { ...tus, 'upload-length': '2000', 'upload-metadata': `filename ${Buffer.from('n.txt').toString('base64')}` } });
  assert.equal(created.status, 201);
  const url = new URL(created.headers.get('location') ?? '', server.url);
  const patch = (offset: number, bytes: number): Promise<Response> => fetch(url, {
    method: 'PATCH', headers: { ...tus, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, body: Buffer.alloc(bytes, 0x61),
  });
  assert.equal((await patch(0, 1000)).status, 204);
  await json<Account>(await call('/v1/tenants/tenant-a/quotas', keys.admin, { method: 'PUT', json: { storageBytes: used + 1500 } }), 200);
  const refused = await patch(1000, 1000);
  assert.equal(refused.status, 429, await refused.clone().text());
  assert.deepEqual(((await refused.json()) as Problem).details, { quota: 'storageBytes', limit: used + 1500, used, needed: 2000 });
  const head = await fetch(url, { method: 'HEAD', headers: tus });
  assert.equal(head.headers.get('upload-offset'), '1000', 'none of the refused bytes were taken');
  // Room again: the upload goes on from where it was.
  await json<Account>(await call('/v1/tenants/tenant-a/quotas', keys.admin, { method: 'PUT', json: {} }), 200);
  assert.equal((await patch(1000, 1000)).status, 204);
});

test('DELETE /v1/documents/:id: the owner removes it once its job ended (audited), another tenant gets 404 and learns nothing', async () => {
  const body = new FormData();
  body.append('file', new Blob([await makePdf({ pages: ['to delete'] })], { type: 'application/pdf' }), 'd.pdf');
  const [doc] = (await json<{ items: Array<{ id: string }> }>(await call('/v1/documents', keys.a, { method: 'POST', body }), 201)).items;
  assert.ok(doc);
  const byB = await json<Problem>(await call(`/v1/documents/${doc.id}`, keys.b, { method: 'DELETE' }), 404);
  assert.equal(byB.code, 'not_found');
  assert.equal((await call(`/v1/documents/${doc.id}`, keys.b)).status, 404, 'nor can tenant b read it');
  const job = await json<{ id: string }>(await call('/v1/jobs', keys.a, { method: 'POST', json: { documents: [doc.id] } }), 202);
  await ream.wait(job.id);
  // (While the job runs the answer is 409 in_use: test/runtime/document-deletion.test.ts.)
  assert.equal((await call(`/v1/documents/${doc.id}`, keys.a, { method: 'DELETE' })).status, 204, 'a finished job does not hold it');
  assert.equal((await call(`/v1/documents/${doc.id}`, keys.a)).status, 404);
  assert.equal((await call(`/v1/jobs/${job.id}`, keys.a)).status, 200, 'the finished job stays readable');
  assert.equal((await call(`/v1/documents/${doc.id}`, keys.b, { method: 'DELETE' })).status, 404, 'gone for b as for anyone');
  for (let tries = 0; tries < 100; tries++) {
    if ((await ream.listAudit({ action: 'document.delete', limit: 10 })).length >= 3) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const audit = await ream.listAudit({ action: 'document.delete', limit: 10 });
  assert.deepEqual(audit.map((e) => [e.tenantId, e.target, e.status]), [['tenant-b', doc.id, 404], ['tenant-a', doc.id, 204], ['tenant-b', doc.id, 404]]);
});

test('a deferred-length upload grows only within the storage quota: PATCHes sent at once, and a declared length past it, are refused', async () => {
  // A tenant of its own: the uploads other tests left unfinished count against a quota.
  const { token } = await issueApiKey(adaptersOf(ream).store, { tenantId: 'tenant-deferred', name: 'deferred', role: 'user' });
  await json<Account>(await call('/v1/tenants/tenant-deferred/quotas', keys.admin, { method: 'PUT', json: { storageBytes: 1000 } }), 200);
  const tusHeaders = (extra: Record<string, string>): Record<string, string> => ({ authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', ...extra });
  const deferredUpload = async (): Promise<URL> => {
    const created = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: tusHeaders({ 'upload-defer-length': '1' }) });
    assert.equal(created.status, 201, await created.clone().text());
    return new URL(created.headers.get('location') ?? '', server.url);
  };
  const patch = (url: URL, offset: number, bytes: number, length?: number): Promise<Response> => fetch(url, {
    method: 'PATCH',
    headers: tusHeaders({ 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream', ...(length === undefined ? {} : { 'upload-length': String(length) }) }),
    body: Buffer.alloc(bytes, 1),
  });
  const offsetOf = async (url: URL): Promise<number> => Number((await fetch(url, { method: 'HEAD', headers: tusHeaders({}) })).headers.get('upload-offset'));

  // Each fits alone (600 of 1,000), both would not: the second, checked under the upload's lock, is
  // refused. Never both taken; when the PATCH at 600 happens to be read first, it is refused for its
  // offset (409) instead, and the pair is sent again to a new upload until the quota is what refuses.
  let refused: Problem | undefined;
  for (let round = 0; round < 8 && refused === undefined; round++) {
    const url = await deferredUpload();
    const both = await Promise.all([patch(url, 0, 600), patch(url, 600, 600)]);
    const statuses = both.map((answer) => answer.status).sort();
    assert.ok(statuses[0] === 204 && (statuses[1] === 409 || statuses[1] === 429), `answers ${statuses.join(', ')}`);
    assert.ok((await offsetOf(url)) <= 1000, 'the upload holds no more than the quota');
    const quotaRefusal = both.find((answer) => answer.status === 429);
    if (quotaRefusal) refused = (await quotaRefusal.json()) as Problem;
    assert.equal((await fetch(url, { method: 'DELETE', headers: tusHeaders({}) })).status, 204);
  }
  assert.ok(refused, 'the quota refused the second PATCH');
  assert.deepEqual([refused.code, refused.details?.quota, refused.details?.limit], ['quota_exceeded', 'storageBytes', 1000]);

  // A length declared past the quota is refused with the PATCH that declares it, whatever it brings.
  const declared = await deferredUpload();
  const past = await patch(declared, 0, 10, 5000);
  assert.equal(past.status, 429, await past.clone().text());
  assert.deepEqual((await past.json() as Problem).details, { quota: 'storageBytes', limit: 1000, used: 0, needed: 5000 });
  assert.equal(await offsetOf(declared), 0);
  assert.equal((await patch(declared, 0, 10, 900)).status, 204, 'a length within the quota is taken');
  assert.equal((await fetch(declared, { method: 'DELETE', headers: tusHeaders({}) })).status, 204);
});

test('a file the tenant has stored already costs no storage: sent again at its quota, by POST /v1/documents, a job or tus, it is taken', async () => {
  const { token } = await issueApiKey(adaptersOf(ream).store, { tenantId: 'tenant-again', name: 'again', role: 'user' });
  await json<{ balance: number }>(await call('/v1/tenants/tenant-again/credits', keys.admin, { method: 'POST', json: { amount: 100, reason: 'plan' } }), 201);
  const bytes = await makePdf({ pages: ['stored once, sent again'] });
  const form = (): FormData => {
    const body = new FormData();
    body.append('file', new Blob([bytes], { type: 'application/pdf' }), 'again.pdf');
    return body;
  };
  const [first] = (await json<{ items: Array<{ id: string }> }>(await call('/v1/documents', token, { method: 'POST', body: form() }), 201)).items;
  const used = (await ream.tenants.tenant('tenant-again')).usage.storageBytes;
  assert.equal(used, bytes.length);
  // Full: not one new byte fits.
  await json<Account>(await call('/v1/tenants/tenant-again/quotas', keys.admin, { method: 'PUT', json: { storageBytes: used } }), 200);

  const [again] = (await json<{ items: Array<{ id: string }> }>(await call('/v1/documents', token, { method: 'POST', body: form() }), 201)).items;
  assert.equal(again?.id, first?.id, 'the same document');
  await json<{ id: string }>(await call('/v1/jobs', token, { method: 'POST', body: form() }), 202);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  // Over tus, an upload declaring the sha256 of content the tenant holds: its bytes are not
  // counted at creation, nor when it ends.
  const tus = (metadata: string): Promise<Response> => fetch(`${server.url}/v1/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', 'upload-length': String(bytes.length), 'upload-metadata': metadata, 'content-type': 'application/offset+octet-stream' },
    body: bytes,
  });
  const name = `filename ${Buffer.from('again.pdf').toString('base64')}`;
  const created = await tus(`${name},sha256 ${Buffer.from(sha256).toString('base64')}`);
  assert.equal(created.status, 201, await created.clone().text());
  assert.equal(created.headers.get('upload-offset'), String(bytes.length), 'stored with its creation');
  assert.equal((await tus(name)).status, 429, 'undeclared, its length is all the creation knows of it');
  assert.equal((await ream.tenants.tenant('tenant-again')).usage.storageBytes, used, 'nothing more counted');

  const other = new FormData();
  other.append('file', new Blob([await makePdf({ pages: ['a new one'] })], { type: 'application/pdf' }), 'new.pdf');
  assert.equal((await json<Problem>(await call('/v1/documents', token, { method: 'POST', body: other }), 429)).code, 'quota_exceeded', 'new bytes are still refused');
});

test('an upload declaring the sha256 of content the tenant holds is taken at its quota only at that content\'s length and within the room its unfinished uploads leave', async () => {
  const { token } = await issueApiKey(adaptersOf(ream).store, { tenantId: 'tenant-held', name: 'held', role: 'user' });
  const bytes = await makePdf({ pages: ['held once'] });
  const body = new FormData();
  body.append('file', new Blob([bytes], { type: 'application/pdf' }), 'held.pdf');
  await json<{ items: unknown[] }>(await call('/v1/documents', token, { method: 'POST', body }), 201);
  await json<Account>(await call('/v1/tenants/tenant-held/quotas', keys.admin, { method: 'PUT', json: { storageBytes: bytes.length } }), 200);
  const metadata = `filename ${Buffer.from('held.pdf').toString('base64')},sha256 ${Buffer.from(createHash('sha256').update(bytes).digest('hex')).toString('base64')}`;
  const create = (length: number): Promise<Response> => fetch(`${server.url}/v1/uploads`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', 'upload-length': String(length), 'upload-metadata': metadata },
  });
  const longer = await create(bytes.length * 100);
  assert.equal(longer.status, 429, 'a length that is not the held content\'s counts as new bytes');
  assert.equal(((await longer.json()) as Problem).code, 'quota_exceeded');
  const first = await create(bytes.length);
  assert.equal(first.status, 201, await first.clone().text());
  // Its bytes are on disk until it ends: a second, while the first is unfinished, passes the quota.
  const second = await create(bytes.length);
  assert.equal(second.status, 429, await second.clone().text());
  assert.equal((await fetch(new URL(first.headers.get('location') ?? '', server.url), { method: 'DELETE', headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' } })).status, 204);
  assert.equal((await create(bytes.length)).status, 201, 'the first gone, there is room again');
});
