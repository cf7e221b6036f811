// Input the API does not take is refused, naming what is wrong, rather than bent into something it
// takes: a JSON number where a string is expected is not turned into a string (nor a string into a
// number, nor one value into an array).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { issueTenantKeys, type TenantKeys } from '../support/tenant-keys.ts';

let dir: string;
let ream: Ream;
let server: RunningServer;
let keys: TenantKeys;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-strict-input-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, metricsHistory: false });
  keys = await issueTenantKeys(ream);
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

async function send(method: string, path: string, key: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json() as Record<string, unknown> };
}

async function assertRefused(method: string, path: string, key: string, body: unknown, field: RegExp): Promise<void> {
  const { status, json } = await send(method, path, key, body);
  assert.equal(status, 400, `${method} ${path} ${JSON.stringify(body)}: ${JSON.stringify(json)}`);
  assert.equal(json.code, 'validation_failed');
  assert.match(String(json.detail), field);
}

test('a JSON number where a string is expected is 400 validation_failed naming the field, not taken as text', async () => {
  await assertRefused('POST', '/v1/jobs/estimate', keys.a, { documents: 1, pipeline: 123 }, /pipeline must be string/);
  await assertRefused('POST', '/v1/download-tickets', keys.a, { path: 123 }, /path must be string/);
  await assertRefused('POST', '/v1/tenants/tenant-a/credits', keys.admin, { amount: 5, reason: 7 }, /reason must be string/);
  assert.equal((await ream.tenants.tenant('tenant-a')).balance, 0, 'no credits were granted');
  // Nor a string taken as a number, nor one value as a list of one.
  await assertRefused('POST', '/v1/jobs/estimate', keys.a, { documents: '2' }, /documents must be integer/);
  await assertRefused('POST', '/v1/jobs/estimate', keys.a, { documents: 1, documentIds: 'doc_x' }, /documentIds must be array/);
  await assertRefused('POST', '/v1/tenants/tenant-a/credits', keys.admin, { amount: '5', reason: 'r' }, /amount must be integer/);
  // The same bodies with the right types are taken.
  const estimate = await send('POST', '/v1/jobs/estimate', keys.a, { documents: 2, pipeline: 'rules', options: { rules: [{ name: 'n', keywords: ['x'] }] } });
  assert.equal(estimate.status, 200, JSON.stringify(estimate.json));
  assert.equal(estimate.json.pages, 2);
  assert.equal((await send('POST', '/v1/tenants/tenant-a/credits', keys.admin, { amount: 5, reason: 'r' })).status, 201);
  // Query parameters are text and stay coerced to the types their schemas name.
  assert.equal((await send('GET', '/v1/jobs?limit=5', keys.a)).status, 200);
});

test('an unknown query parameter on a v1 route is 400 validation_failed naming it and the ones the route takes', async () => {
  const typo = await send('GET', '/v1/jobs?stauts=failed', keys.a);
  assert.equal(typo.status, 400, JSON.stringify(typo.json));
  assert.equal(typo.json.code, 'validation_failed');
  assert.match(String(typo.json.detail), /"stauts"/);
  assert.match(String(typo.json.detail), /status/, 'the parameters the route takes are named');
  // A route that takes no query parameters says so.
  const none = await send('GET', '/v1/me?verbose=1', keys.a);
  assert.equal(none.status, 400, JSON.stringify(none.json));
  assert.match(String(none.json.detail), /"verbose".*no query parameters/);
  // The documented ones are taken, as before.
  assert.equal((await send('GET', '/v1/jobs?status=failed&sort=created&limit=5&total=true', keys.a)).status, 200);
  assert.equal((await send('GET', '/v1/me', keys.a)).status, 200);
  // Credentials first: a client without them learns nothing of what a route takes.
  const anonymous = await fetch(`${server.url}/v1/jobs?stauts=failed`);
  assert.equal(anonymous.status, 401);
  // Routes outside the API (probes) are not concerned: a load balancer's cache-buster passes.
  assert.equal((await fetch(`${server.url}/healthz?probe=1`)).status, 200);
});
