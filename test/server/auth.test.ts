import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { issueApiKey } from '../../src/server/auth/api-keys.ts';
import { signInView } from '../../src/server/routes/sign-in.ts';
import type { JobView } from '../../src/server/views.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';

const run = promisify(execFile);
const JWT_SECRET = 'test-secret-that-is-long-enough-for-hs256';
const TUS = { 'Tus-Resumable': '1.0.0' };

let dir: string;
let ream: Ream;
let server: RunningServer;
let pdf: Uint8Array;
let keyA: string;
let keyB: string;
let keyAdmin: string;
let privateKey: KeyObject;
let publicPem: string;

function b64(value: object): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

function hs256(claims: object, secret = JWT_SECRET): string {
  const signed = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
}

function rs256(claims: object): string {
  const signed = `${b64({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${b64(claims)}`;
  return `${signed}.${sign('sha256', Buffer.from(signed), privateKey).toString('base64url')}`;
}

const inAnHour = (): number => Math.floor(Date.now() / 1000) + 3600;

function get(path: string, token?: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, { ...init, headers: { ...(token === undefined ? {} : { authorization: `Bearer ${token}` }), ...(init.headers as Record<string, string> | undefined) } });
}

async function submit(token: string): Promise<JobView> {
  const body = new FormData();
  body.append('file', new Blob([pdf], { type: 'application/pdf' }), 'a.pdf');
  const response = await get('/v1/jobs', token, { method: 'POST', body });
  assert.equal(response.status, 202);
  return (await response.json()) as JobView;
}

async function assertProblem(response: Response, status: number, code: string): Promise<void> {
  assert.equal(response.status, status);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = (await response.json()) as { code?: unknown };
  assert.equal(body.code, code);
}

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, ['bin/ream.js', ...args, '--data-dir', ream.dataDir], { env: { ...process.env, REAM_FROM_SOURCE: '1' } });
  return stdout;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-auth-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKey = pair.privateKey;
  publicPem = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const jwk = pair.publicKey.export({ format: 'jwk' });
  const jwksPath = join(dir, 'jwks.json');
  await writeFile(jwksPath, JSON.stringify({ keys: [{ ...jwk, kid: 'k1', alg: 'RS256', use: 'sig' }] }));
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on', jwtSecret: JWT_SECRET, jwks: jwksPath } });
  const store = adaptersOf(ream).store;
  keyA = (await issueApiKey(store, { tenantId: 'tenant-a', name: 'a', role: 'user' })).token;
  keyB = (await issueApiKey(store, { tenantId: 'tenant-b', name: 'b', role: 'user' })).token;
  keyAdmin = (await issueApiKey(store, { tenantId: 'ops', name: 'admin', role: 'admin' })).token;
  pdf = await makePdf({ pages: numberedPages('A', 2) });
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

describe('auth and tenant isolation', () => {
  let jobA: JobView;

  test('no or bad credentials → 401 unauthorized with WWW-Authenticate; probes stay public', async () => {
    for (const response of [await get('/v1/jobs'), await get('/v1/jobs', 'ream_0000000000000000_nope'), await get('/v1/jobs', 'not.a.jwt')]) {
      assert.equal(response.headers.get('www-authenticate'), 'Bearer');
      await assertProblem(response, 401, 'unauthorized');
    }
    assert.equal((await get('/healthz')).status, 200);
    assert.equal((await get('/readyz')).status, 200);
    assert.equal((await get('/openapi.json')).status, 200);
  });

  test('GET /v1/auth says, without credentials, which kinds the server takes and never a secret', async () => {
    const response = await get('/v1/auth');
    assert.equal(response.status, 200);
    const text = await response.text();
    assert.deepEqual(JSON.parse(text), { required: true, methods: ['api_key', 'jwt'], jwt: {} });
    assert.ok(!text.includes(JWT_SECRET) && !text.includes('jwks'), 'no secret and no key location');
    assert.deepEqual(signInView({ mode: 'on' }), { required: true, methods: ['api_key'] });
    assert.deepEqual(signInView({ mode: 'off' }), { required: false, methods: [] });
    assert.deepEqual(signInView({ mode: 'on', jwksUrl: 'https://login.example.test/keys', jwtIssuer: 'https://login.example.test/', jwtAudience: 'ream' }), {
      required: true, methods: ['api_key', 'jwt'], jwt: { issuer: 'https://login.example.test/', audience: 'ream' },
    });
  });

  test("another tenant's job is a 404 on every route; an admin sees it", async () => {
    jobA = await submit(keyA);
    assert.equal((await get(`/v1/jobs/${jobA.id}`, keyA)).status, 200);
    for (const path of [`/v1/jobs/${jobA.id}`, `/v1/jobs/${jobA.id}/events`, `/v1/jobs/${jobA.id}/results`]) {
      await assertProblem(await get(path, keyB), 404, 'not_found');
    }
    await assertProblem(await get(`/v1/jobs/${jobA.id}/cancel`, keyB, { method: 'POST' }), 404, 'not_found');
    const listB = (await (await get('/v1/jobs', keyB)).json()) as { items: JobView[] };
    assert.ok(listB.items.every((j) => j.id !== jobA.id));
    const listA = (await (await get('/v1/jobs', keyA)).json()) as { items: JobView[] };
    assert.ok(listA.items.some((j) => j.id === jobA.id));
    const jobB = await submit(keyB);
    assert.equal((await get(`/v1/jobs/${jobA.id}`, keyAdmin)).status, 200);
    assert.equal((await get(`/v1/jobs/${jobB.id}`, keyAdmin)).status, 200);
  });

  test('documents and tus uploads are tenant-scoped', async () => {
    const body = new FormData();
    body.append('file', new Blob([pdf], { type: 'application/pdf' }), 'd.pdf');
    const created = await get('/v1/documents', keyA, { method: 'POST', body });
    assert.equal(created.status, 201);
    const { items } = (await created.json()) as { items: Array<{ id: string }> };
    const docId = items[0]?.id ?? '';
    assert.equal((await get(`/v1/documents/${docId}`, keyA)).status, 200);
    await assertProblem(await get(`/v1/documents/${docId}`, keyB), 404, 'not_found');

    const upload = await get('/v1/uploads', keyA, { method: 'POST', headers: { ...TUS, 'Upload-Length': '100', 'Upload-Metadata': `reamTenant ${Buffer.from('tenant-b').toString('base64')}` } });
    assert.equal(upload.status, 201);
    const path = new URL(upload.headers.get('location') ?? '', server.url).pathname;
    assert.equal((await get(path, keyA, { method: 'HEAD', headers: TUS })).status, 200);
    assert.equal((await get(path, keyB, { method: 'HEAD', headers: TUS })).status, 404, 'a client cannot claim another tenant in metadata');
    await assertProblem(await get(path, keyB), 404, 'not_found');
    assert.equal((await get(path, keyA)).status, 200);
  });

  test('/metrics needs an admin', async () => {
    await assertProblem(await get('/metrics', keyA), 403, 'forbidden');
    assert.equal((await get('/metrics', keyAdmin)).status, 200);
  });

  test('HS256 JWTs: accepted with tenant claims; expired or wrongly signed → 401', async () => {
    const good = hs256({ sub: 'alice', tenant: 'tenant-a', exp: inAnHour() });
    assert.equal((await get(`/v1/jobs/${jobA.id}`, good)).status, 200);
    const viaTid = hs256({ sub: 'bob', tid: 'tenant-b', exp: inAnHour() });
    await assertProblem(await get(`/v1/jobs/${jobA.id}`, viaTid), 404, 'not_found');
    await assertProblem(await get('/v1/jobs', hs256({ sub: 'alice', tenant: 'tenant-a', exp: Math.floor(Date.now() / 1000) - 3600 })), 401, 'unauthorized');
    await assertProblem(await get('/v1/jobs', hs256({ sub: 'alice', tenant: 'tenant-a', nbf: inAnHour() })), 401, 'unauthorized');
    await assertProblem(await get('/v1/jobs', hs256({ sub: 'alice', tenant: 'tenant-a', exp: inAnHour() }, 'another-secret')), 401, 'unauthorized');
    const [h, , s] = good.split('.');
    await assertProblem(await get('/v1/jobs', `${h}.${b64({ sub: 'alice', tenant: 'tenant-b', exp: inAnHour() })}.${s}`), 401, 'unauthorized');
    const none = `${b64({ alg: 'none' })}.${b64({ sub: 'x', tenant: 'tenant-a' })}.`;
    await assertProblem(await get('/v1/jobs', none), 401, 'unauthorized');
  });

  test('RS256 JWTs verified with a JWKS file', async () => {
    assert.equal((await get(`/v1/jobs/${jobA.id}`, rs256({ sub: 'svc', tenant: 'tenant-a', exp: inAnHour() }))).status, 200);
    assert.equal((await get(`/v1/jobs/${jobA.id}`, rs256({ sub: 'svc', tenant: 'tenant-a', role: 'admin', exp: inAnHour() }))).status, 200);
    await assertProblem(await get(`/v1/jobs/${jobA.id}`, rs256({ sub: 'svc', tenant: 'tenant-b', exp: inAnHour() })), 404, 'not_found');
    // Algorithm confusion: HS256 "signed" with the public key is refused.
    await assertProblem(await get('/v1/jobs', hs256({ sub: 'svc', tenant: 'tenant-a', exp: inAnHour() }, publicPem)), 401, 'unauthorized');
  });

  test('ream keys create / list / revoke; a revoked key is 401 at once', async () => {
    const token = (await cli('keys', 'create', '--tenant', 'tenant-a', '--name', 'cli')).trim();
    assert.match(token, /^ream_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    assert.equal((await get(`/v1/jobs/${jobA.id}`, token)).status, 200);
    const id = token.split('_')[1] ?? '';
    const listed = await cli('keys', 'list');
    assert.match(listed, new RegExp(`^${id}\\ttenant-a\\tuser\\t.*\\tactive\\tcli$`, 'm'));
    // The secret is base64url, so it may itself hold '_': take everything after the id.
    const secret = token.slice(`ream_${id}_`.length);
    assert.equal(secret.length, 43);
    assert.ok(!listed.includes(secret), 'the secret is never listed');
    await cli('keys', 'revoke', id);
    assert.match(await cli('keys', 'list'), new RegExp(`^${id}\\t.*\\trevoked `, 'm'));
    await assertProblem(await get('/v1/jobs', token), 401, 'unauthorized');
    // A mistyped data dir is said, not listed as "no keys" (nor made).
    const typo = join(dir, 'no-such-data-dir');
    const refused = await run(process.execPath, ['bin/ream.js', 'keys', 'list', '--data-dir', typo], { env: { ...process.env, REAM_FROM_SOURCE: '1' } }).then(
      () => assert.fail('keys list in a missing data dir must fail'),
      (error: { code?: number; stderr?: string }) => error,
    );
    assert.equal(refused.code, 2);
    assert.match(refused.stderr ?? '', /no data dir .*no-such-data-dir .*\[not_found\]/);
    assert.equal(existsSync(typo), false, 'and none was made');
    // A tenant no key should act as: empty, padded with spaces, or the admins' "every tenant".
    for (const tenant of ['', ' tenant-a', '*']) {
      const bad = await run(process.execPath, ['bin/ream.js', 'keys', 'create', '--tenant', tenant, '--data-dir', dir], { env: { ...process.env, REAM_FROM_SOURCE: '1' } }).then(
        () => assert.fail(`keys create --tenant ${JSON.stringify(tenant)} must fail`),
        (error: { code?: number; stderr?: string }) => error,
      );
      assert.equal(bad.code, 2, JSON.stringify(tenant));
      assert.match(bad.stderr ?? '', /a tenant is a non-empty name/);
    }
  });

  test('rate limit per key → 429 rate_limited with Retry-After', async () => {
    const limited = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, rateLimit: { requestsPerMinute: 2 } });
    try {
      const call = (token: string): Promise<Response> => fetch(`${limited.url}/v1/jobs`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal((await call(keyA)).status, 200);
      assert.equal((await call(keyA)).status, 200);
      const third = await call(keyA);
      assert.ok(Number(third.headers.get('retry-after')) >= 1);
      await assertProblem(third, 429, 'rate_limited');
      assert.equal((await call(keyB)).status, 200, 'buckets are per key');
      assert.equal((await fetch(`${limited.url}/healthz`)).status, 200);
    } finally {
      await limited.close();
    }
  });

  test('with auth on, a non-loopback host is allowed', async () => {
    const open = await startServer({ ream, host: '0.0.0.0', port: 0, auth: { mode: 'on' } });
    await open.close();
  });
});
