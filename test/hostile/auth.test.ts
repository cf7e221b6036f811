import assert from 'node:assert/strict';
import { createHmac, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import Fastify from 'fastify';
import { TENANT } from '../../src/server/auth/access.ts';
import { AUTH_FAILURES_PER_MINUTE, registerAuth } from '../../src/server/auth/plugin.ts';
import { localCoordination } from '../../src/server/coordination.ts';
import { assertProblem, b64url, call, JWT_SECRET, startHostile, type Hostile } from './harness.ts';

let h: Hostile;
let lenient: Hostile;
let privateKey: KeyObject;
let publicPem: string;

function hs256(claims: object, secret: string | Buffer = JWT_SECRET, header: object = { alg: 'HS256', typ: 'JWT' }): string {
  const signed = `${b64url(header)}.${b64url(claims)}`;
  return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
}

function rs256(claims: object, key: KeyObject = privateKey): string {
  const signed = `${b64url({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${b64url(claims)}`;
  return `${signed}.${sign('sha256', Buffer.from(signed), key).toString('base64url')}`;
}

const now = (): number => Math.floor(Date.now() / 1000);
const claims = (extra: object = {}): object => ({ sub: 'mallory', tenant: 'tenant-a', exp: now() + 3600, ...extra });

before(async () => {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  privateKey = pair.privateKey;
  publicPem = pair.publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const jwks = { keys: [{ ...pair.publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'RS256', use: 'sig' }] };
  h = await startHostile({ auth: { mode: 'on', jwtSecret: JWT_SECRET, jwks } });
  lenient = await startHostile({ auth: { mode: 'on', jwtSecret: JWT_SECRET, jwtRequireExp: false } });
});
after(async () => {
  await h.close();
  await lenient.close();
});

describe('JWTs', () => {
  test('a well-formed token is accepted (the baseline the forgeries differ from)', async () => {
    assert.equal((await call(h, '/v1/jobs', hs256(claims()))).status, 200);
    assert.equal((await call(h, '/v1/jobs', rs256(claims()))).status, 200);
  });

  test('a token without exp is refused by default, accepted with jwtRequireExp: false', async () => {
    const forever = hs256({ sub: 'mallory', tenant: 'tenant-a' });
    await assertProblem(await call(h, '/v1/jobs', forever), 401, 'unauthorized', 'no exp');
    await assertProblem(await call(h, '/v1/jobs', rs256({ sub: 'mallory', tenant: 'tenant-a' })), 401, 'unauthorized', 'no exp (RS256)');
    assert.equal((await call(lenient, '/v1/jobs', forever)).status, 200);
    await assertProblem(await call(lenient, '/v1/jobs', hs256(claims({ exp: now() - 3600 }))), 401, 'unauthorized', 'expired, lenient');
  });

  test('forgeries → 401: alg none, wrong key, HS256 signed with the public key, expired, not yet valid, no tenant', async () => {
    const forged: Record<string, string> = {
      'alg none': `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(claims({ role: 'admin' }))}.`,
      'alg none, upper case': `${b64url({ alg: 'NONE', typ: 'JWT' })}.${b64url(claims({ role: 'admin' }))}.`,
      'HS256, wrong secret': hs256(claims(), 'not-the-secret-not-the-secret-not-the-secret'),
      'RS256, wrong key': rs256(claims(), generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey),
      'HS256 with the public key as secret': hs256(claims({ role: 'admin' }), publicPem),
      'HS256 with the public key as secret, RS256 kid': hs256(claims({ role: 'admin' }), publicPem, { alg: 'HS256', kid: 'k1' }),
      expired: hs256(claims({ exp: now() - 3600 })),
      'not yet valid': hs256(claims({ nbf: now() + 3600 })),
      'no tenant': hs256({ sub: 'mallory', exp: now() + 3600 }),
      'claims edited after signing': ((): string => {
        const [head, , sig] = hs256(claims()).split('.');
        return `${head}.${b64url(claims({ tenant: 'tenant-b', role: 'admin' }))}.${sig}`;
      })(),
    };
    for (const [what, token] of Object.entries(forged)) await assertProblem(await call(h, '/v1/jobs', token), 401, 'unauthorized', what);
  });

  test('each refused token logs one debug line, never a stack (no log flooding)', async () => {
    const garbage = ['not.a.jwt', 'garbage', 'a.b.c', `${'x'.repeat(4000)}.y.z`, `${b64url({ alg: 'HS256' })}.%%%.sig`, hs256({ sub: 'x', tenant: 't' }, 'wrong-secret-wrong-secret-wrong-secret')];
    const from = h.logs.length;
    for (const token of garbage) await assertProblem(await call(h, '/v1/jobs', token), 401, 'unauthorized', token.slice(0, 20));
    const lines = h.logs.slice(from).map((line) => JSON.parse(line) as { level: number; msg?: string; err?: unknown });
    const refused = lines.filter((line) => line.msg?.startsWith('bearer token refused') === true);
    assert.equal(refused.length, garbage.length, 'one line per refused token');
    assert.ok(refused.every((line) => line.level === 20), 'at debug level');
    assert.ok(lines.every((line) => line.err === undefined && line.level < 40), 'no error object, nothing at warn or above');
    assert.ok(h.logs.slice(from).every((line) => !line.includes('"stack"') && !line.includes('    at ')), 'no stack trace');
    assert.ok(refused.every((line) => (line.msg ?? '').length < 300), 'short lines (the token is not echoed)');
  });
});

describe('guessing credentials', () => {
  test(`past ${AUTH_FAILURES_PER_MINUTE} refused credentials a minute, an address's refusals are 429; right credentials still pass`, async (t) => {
    const guessed = await startHostile();
    t.after(() => guessed.close());
    for (let attempt = 1; attempt <= AUTH_FAILURES_PER_MINUTE; attempt++) {
      await assertProblem(await call(guessed, '/v1/jobs', `ream_guess${attempt}`), 401, 'unauthorized', `guess ${attempt}`);
    }
    // The budget refills as time passes (one a 2 s): on a loaded machine the guesses above took
    // long enough for a few more to be answered 401 before the first 429.
    let refused = await call(guessed, '/v1/jobs', 'ream_one-more-guess');
    for (let more = 0; refused.status === 401 && more < AUTH_FAILURES_PER_MINUTE; more++) refused = await call(guessed, '/v1/jobs', `ream_more-guess${more}`);
    await assertProblem(refused, 429, 'rate_limited', 'the guess past the budget');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1, 'with Retry-After');
    // A right key from that address is not held back: behind a proxy, every client shares its address.
    assert.equal((await call(guessed, '/v1/jobs', guessed.keyA)).status, 200, 'a right key from the same address');
    await assertProblem(await call(guessed, '/v1/jobs', 'ream_still-guessing'), 429, 'rate_limited', 'and the next guess is still 429');
    // Public routes stay open.
    assert.equal((await call(guessed, '/healthz')).status, 200);
  });
});


describe('refused credentials from IPv6 addresses', () => {
  test('count against the /64 they come from: a guesser going through its addresses is 429 as one client', async (t) => {
    // The peer's address as a proxy in front says it (trustProxy), so one test host can be many IPv6 clients.
    const app = Fastify({ trustProxy: true });
    registerAuth(app, h.ream, { mode: 'on', jwtSecret: JWT_SECRET }, undefined, localCoordination());
    app.get('/v1/jobs', TENANT, () => ({ items: [] }));
    await app.listen({ host: '127.0.0.1', port: 0 });
    t.after(() => app.close());
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/v1/jobs`;
    // Another address of the /64 for each guess, as a host holding the whole /64 can use.
    const guess = (n: number, prefix = '2001:db8:0:1'): Promise<number> =>
      fetch(url, { headers: { authorization: `Bearer ream_guess${n}`, 'x-forwarded-for': `${prefix}::${n.toString(16)}` } }).then((answer) => answer.status);
    for (let attempt = 1; attempt <= AUTH_FAILURES_PER_MINUTE; attempt++) assert.equal(await guess(attempt), 401, `guess ${attempt}`);
    // Past the budget, from yet other addresses of the /64 (a few more may pass as it refills under load).
    let past = await guess(AUTH_FAILURES_PER_MINUTE + 1);
    for (let more = 2; past === 401 && more <= AUTH_FAILURES_PER_MINUTE; more++) past = await guess(AUTH_FAILURES_PER_MINUTE + more);
    assert.equal(past, 429, 'the guesses past the budget, each from another address of the /64');
    // Another /64 is another client.
    assert.equal(await guess(1, '2001:db8:0:2'), 401);
  });
});
