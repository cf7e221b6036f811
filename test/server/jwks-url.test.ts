import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { startServeProcess } from '../support/serve-process.ts';

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

function token(key: SigningKey, claims: Record<string, unknown> = { tenant: 'tenant-a' }, kid: string = key.kid): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).setSubject('svc').setExpirationTime('1h').sign(key.privateKey);
}

/** A JWKS endpoint whose keys the test swaps, counting how often it is fetched. */
let keys: JWK[] = [];
let fetches = 0;
let jwksServer: Server;
let jwksUrl: string;

let dir: string;
let ream: Ream;
let server: RunningServer;
let first: SigningKey;
let stranger: SigningKey;

before(async () => {
  jwksServer = createServer((_req, res) => {
    fetches++;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/.well-known/jwks.json`;
  [first, stranger] = await Promise.all([signingKey('k1'), signingKey('k1')]);
  keys = [first.jwk];

  dir = await mkdtemp(join(tmpdir(), 'ream-jwks-url-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
  // No cooldown: a token with an unknown kid fetches the set again at once.
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on', jwksUrl, jwksCooldownMs: 0 } });
});
after(async () => {
  await server.close();
  await ream.close();
  jwksServer.close();
  await rm(dir, { recursive: true, force: true });
});

function listJobs(url: string, bearer: string): Promise<Response> {
  return fetch(`${url}/v1/jobs`, { headers: { authorization: `Bearer ${bearer}` } });
}

async function assertUnauthorized(response: Response): Promise<void> {
  assert.equal(response.status, 401);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(((await response.json()) as { code: string }).code, 'unauthorized');
}

describe('JWTs verified with a JWKS fetched from a URL', () => {
  test('a token signed by a key of the set is accepted; the set is fetched once and cached', async () => {
    assert.equal((await listJobs(server.url, await token(first))).status, 200);
    assert.equal((await listJobs(server.url, await token(first, { tenant: 'tenant-b' }))).status, 200);
    assert.equal(fetches, 1, 'the JWKS is cached between requests');
  });

  test('a token signed by another key (same kid) is 401 unauthorized', async () => {
    await assertUnauthorized(await listJobs(server.url, await token(stranger)));
    // Claims still matter: no tenant is refused even with a good signature.
    await assertUnauthorized(await listJobs(server.url, await token(first, {})));
  });

  test('a rotated key is picked up: an unknown kid fetches the set again', async () => {
    const rotated = await signingKey('k2');
    const before = fetches;
    await assertUnauthorized(await listJobs(server.url, await token(rotated)));
    assert.equal(fetches, before + 1, 'the unknown kid fetched the set again (it did not have k2 yet)');
    keys = [rotated.jwk];
    assert.equal((await listJobs(server.url, await token(rotated))).status, 200);
    assert.equal(fetches, before + 2);
    // k1 left the set: its tokens are refused now.
    await assertUnauthorized(await listJobs(server.url, await token(first)));
  });

  test('with an issuer and an audience configured, tokens must carry both', async () => {
    keys = [first.jwk];
    const strict = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on', jwksUrl, jwtIssuer: 'https://idp.example', jwtAudience: 'ream' } });
    try {
      const claims = { tenant: 'tenant-a', iss: 'https://idp.example', aud: ['other', 'ream'] };
      assert.equal((await listJobs(strict.url, await token(first, claims))).status, 200);
      await assertUnauthorized(await listJobs(strict.url, await token(first, { ...claims, iss: 'https://evil.example' })));
      await assertUnauthorized(await listJobs(strict.url, await token(first, { ...claims, aud: 'other' })));
      await assertUnauthorized(await listJobs(strict.url, await token(first, { tenant: 'tenant-a' })));
    } finally {
      await strict.close();
    }
  });

  test('an unreachable JWKS URL refuses tokens with 401 (the server keeps answering)', async () => {
    const dead = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on', jwksUrl: 'http://127.0.0.1:1/jwks.json' } });
    try {
      await assertUnauthorized(await listJobs(dead.url, await token(first)));
      assert.equal((await fetch(`${dead.url}/healthz`)).status, 200);
    } finally {
      await dead.close();
    }
  });

  test('ream serve --jwks-url (and REAM_JWKS_URL) turns auth on with the remote key set', async () => {
    keys = [first.jwk];
    for (const [args, env] of [
      [['--jwks-url', jwksUrl], {}],
      [[], { REAM_JWKS_URL: jwksUrl }],
    ] as const) {
      const serve = await startServeProcess(['--data-dir', join(dir, 'serve'), '--threads', '1', ...args], env);
      try {
        assert.match(serve.output(), /auth is on/);
        assert.equal((await listJobs(serve.url, await token(first))).status, 200, serve.output());
        await assertUnauthorized(await listJobs(serve.url, await token(stranger)));
        await assertUnauthorized(await fetch(`${serve.url}/v1/jobs`));
      } finally {
        await serve.stop();
      }
    }
  });
});
