import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { assertRawProblem, raw, startHostile, type Hostile, type RawAnswer } from './harness.ts';

type Access = 'public' | 'tenant' | 'admin';
interface Operation {
  method: string;
  /** OpenAPI path, `{id}` for the parameter. */
  path: string;
  access: Access;
}

let h: Hostile;
let operations: Operation[];

/** Routes hidden from the OpenAPI document (not API, or not describable there), walked as well. */
const HIDDEN: Operation[] = [
  { method: 'GET', path: '/metrics', access: 'admin' },
  { method: 'GET', path: '/openapi.json', access: 'public' },
  { method: 'GET', path: '/v1/ws', access: 'tenant' },
  { method: 'GET', path: '/ui/', access: 'public' },
  { method: 'GET', path: '/assets/{id}', access: 'public' },
  { method: 'GET', path: '/favicon.ico', access: 'public' },
  { method: 'GET', path: '/', access: 'public' },
];

/** Ids that exist nowhere: a tus-shaped one for uploads (other ids are not even looked up there). */
function concrete(path: string): string {
  return path.replace('{id}', path.startsWith('/v1/uploads') ? '0123456789abcdef0123456789abcdef' : 'no-such-id');
}

/** The same path with the first letter of its last static segment percent-encoded (`/metrics` → `/%6detrics`). */
function encoded(path: string): string {
  const segments = path.split('/');
  for (let i = segments.length - 1; i >= 0; i--) {
    const segment = segments[i] ?? '';
    const at = segment.search(/[a-z]/i);
    if (segment.startsWith('{') || at < 0) continue;
    const hex = segment.charCodeAt(at).toString(16);
    segments[i] = `${segment.slice(0, at)}%${hex}${segment.slice(at + 1)}`;
    return segments.join('/');
  }
  return path; // `/`: nothing to encode
}

function send(op: Operation, path: string, token?: string): Promise<RawAnswer> {
  return raw(h, op.method, path, token === undefined ? {} : { authorization: `Bearer ${token}` });
}

/** What a caller allowed on the route gets: a 2xx/3xx, or a documented client error as a problem (never 401/403/5xx). */
function assertReached(answer: RawAnswer, what: string): void {
  assert.ok(answer.status < 500, `${what}: ${answer.status} ${answer.body.slice(0, 200)}`);
  assert.ok(answer.status !== 401 && answer.status !== 403, `${what}: refused (${answer.status})`);
  if (answer.status >= 400) assert.match(String(answer.headers['content-type']), /^application\/problem\+json/, `${what}: a problem`);
}

function assertRefused(op: Operation, answer: RawAnswer, status: 401 | 403, what: string): void {
  if (op.method !== 'HEAD') return assertRawProblem(answer, status, status === 401 ? 'unauthorized' : 'forbidden', what);
  assert.equal(answer.status, status, what); // a HEAD answer has no body
  assert.match(String(answer.headers['content-type']), /^application\/problem\+json/, what);
}

before(async () => {
  h = await startHostile();
  const doc = (await (await fetch(`${h.url}/openapi.json`)).json()) as { paths: Record<string, Record<string, { 'x-ream-access'?: Access }>> };
  operations = [...HIDDEN];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const access = op['x-ream-access'];
      assert.ok(access === 'public' || access === 'tenant' || access === 'admin', `${method} ${path} documents its access`);
      operations.push({ method: method.toUpperCase(), path, access });
    }
  }
});
after(() => h.close());

describe('authorization follows the matched route, however its path is spelled', () => {
  test('the OpenAPI document lists every route with its access', () => {
    assert.ok(operations.length >= 25, `walked ${operations.length} operations`);
    const access = (method: string, path: string): Access | undefined => operations.find((op) => op.method === method && op.path === path)?.access;
    assert.equal(access('GET', '/v1/workers'), 'admin');
    assert.equal(access('GET', '/healthz'), 'public');
    assert.equal(access('GET', '/v1/jobs/{id}'), 'tenant');
  });

  test('no key: public routes answer, every other route is 401 unauthorized (plain and percent-encoded)', async () => {
    for (const op of operations) {
      for (const path of [concrete(op.path), encoded(concrete(op.path))]) {
        const answer = await send(op, path);
        const what = `${op.method} ${path} without a key`;
        if (op.access === 'public') assertReached(answer, what);
        else assertRefused(op, answer, 401, what);
      }
    }
  });

  test("a tenant key: admin routes are 403 forbidden, the others answer as documented (plain and percent-encoded)", async () => {
    for (const op of operations) {
      const plain = await send(op, concrete(op.path), h.keyA);
      const spelled = await send(op, encoded(concrete(op.path)), h.keyA);
      for (const [answer, path] of [[plain, concrete(op.path)], [spelled, encoded(concrete(op.path))]] as const) {
        const what = `${op.method} ${path} with a tenant key`;
        if (op.access === 'admin') assertRefused(op, answer, 403, what);
        else assertReached(answer, what);
      }
      assert.equal(spelled.status, plain.status, `${op.method} ${op.path}: the encoded path answers like the plain one`);
    }
  });

  test('an admin key reaches every route (plain and percent-encoded)', async () => {
    for (const op of operations) {
      for (const path of [concrete(op.path), encoded(concrete(op.path))]) assertReached(await send(op, path, h.keyAdmin), `${op.method} ${path} as admin`);
    }
    const metrics = await raw(h, 'GET', '/%6detrics', { authorization: `Bearer ${h.keyAdmin}` });
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /ream_jobs/);
  });

  test('the reported bypasses: /%6detrics and /v1/%77orkers are 403 for a tenant', async () => {
    for (const path of ['/%6detrics', '/v1/%77orkers', '/%6D%65trics', '/v1/workers?x=/healthz', '/metrics/', '/v1/%77orkers/']) {
      const answer = await raw(h, 'GET', path, { authorization: `Bearer ${h.keyA}` });
      assert.ok(answer.status === 403 || answer.status === 404, `${path}: ${answer.status}`);
      assert.ok(!answer.body.includes('ream_jobs') && !answer.body.includes('"items"'), `${path} leaks nothing`);
      assert.match(String(answer.headers['content-type']), /^application\/problem\+json/);
    }
  });

  test('unknown routes: 401 without credentials, 404 problem with them', async () => {
    for (const path of ['/v1/nothing', '/%6eothing', '/v2/jobs']) {
      assertRawProblem(await raw(h, 'GET', path), 401, 'unauthorized', `${path} without a key`);
      assertRawProblem(await raw(h, 'GET', path, { authorization: `Bearer ${h.keyA}` }), 404, 'not_found', `${path} with a key`);
    }
  });
});
