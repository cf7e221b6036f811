import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { ERROR_CODES } from '../../src/errors.ts';
import { TUS, assertProblemParts, assertRawProblem, createUpload, raw, startHostile, type Hostile } from './harness.ts';

let h: Hostile;
let auth: Record<string, string>;

before(async () => {
  h = await startHostile();
  auth = { authorization: `Bearer ${h.keyA}` };
});
after(() => h.close());

interface Case {
  what: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
  status: number;
  code: keyof typeof ERROR_CODES;
}

const OCTETS = { 'content-type': 'application/offset+octet-stream' };

/** Every malformed request answers application/problem+json with a code from the closed list, whatever layer refuses it. */
const CASES: Case[] = [
  { what: 'a 5,000-character id (over the router\'s parameter limit)', method: 'GET', path: `/v1/jobs/${'a'.repeat(5000)}`, status: 400, code: 'validation_failed' },
  { what: 'a bad percent-encoding', method: 'GET', path: '/v1/jobs/%zz', status: 400, code: 'validation_failed' },
  { what: 'bad JSON', method: 'POST', path: '/v1/jobs', headers: { 'content-type': 'application/json' }, body: '{"documents":', status: 400, code: 'validation_failed' },
  { what: 'an empty JSON body', method: 'POST', path: '/v1/jobs', headers: { 'content-type': 'application/json' }, body: '', status: 400, code: 'validation_failed' },
  { what: 'JSON that is not an object', method: 'POST', path: '/v1/jobs', headers: { 'content-type': 'application/json' }, body: '[1,2]', status: 400, code: 'validation_failed' },
  { what: 'a body over the limit', method: 'POST', path: '/v1/jobs', headers: { 'content-type': 'application/json' }, body: `{"pipeline":"${'x'.repeat(2 * 1024 * 1024)}"}`, status: 413, code: 'file_too_large' },
  { what: 'an unsupported content type', method: 'POST', path: '/v1/jobs', headers: { 'content-type': 'text/xml' }, body: '<job/>', status: 415, code: 'unsupported_type' },
  { what: 'plain text (no route reads it)', method: 'POST', path: '/v1/jobs', headers: { 'content-type': 'text/plain' }, body: '{}', status: 415, code: 'unsupported_type' },
  { what: 'a field an estimate does not take', method: 'POST', path: '/v1/jobs/estimate', headers: { 'content-type': 'application/json' }, body: '{"documents":1,"bogus":true}', status: 400, code: 'validation_failed' },
  { what: 'an unknown route', method: 'GET', path: '/v1/nothing', status: 404, code: 'not_found' },
  { what: 'an unknown method on a known path', method: 'PUT', path: '/v1/jobs', status: 404, code: 'not_found' },
  { what: 'a plain GET on the WebSocket route', method: 'GET', path: '/v1/ws', status: 400, code: 'validation_failed' },
  { what: 'a bad query parameter', method: 'GET', path: '/v1/jobs?status=bogus', status: 400, code: 'validation_failed' },
  { what: 'search without q', method: 'GET', path: '/v1/search', status: 400, code: 'validation_failed' },
  { what: 'search for punctuation only', method: 'GET', path: '/v1/search?q=***', status: 400, code: 'validation_failed' },
  { what: 'a search limit that is no plain number', method: 'GET', path: '/v1/search?q=a&limit=0x10', status: 400, code: 'validation_failed' },
  { what: 'bad Last-Event-ID', method: 'GET', path: '/v1/jobs/x/events?after=-1', status: 404, code: 'not_found' },
  // PostgreSQL cannot hold a NUL in text: refused before it reaches a store, whichever the store.
  { what: 'a NUL in a path parameter', method: 'GET', path: '/v1/jobs/a%00b', status: 400, code: 'validation_failed' },
  { what: 'a NUL in a query value', method: 'GET', path: '/v1/search?q=merger%00x', status: 400, code: 'validation_failed' },
  { what: 'a NUL in a JSON body', method: 'POST', path: '/v1/jobs', headers: { 'content-type': 'application/json' }, body: '{"documents":["doc_a\\u0000b"]}', status: 400, code: 'validation_failed' },
  { what: 'a NUL in a JSON key', method: 'POST', path: '/v1/jobs/estimate', headers: { 'content-type': 'application/json' }, body: '{"documents":1,"options":{"a\\u0000":1}}', status: 400, code: 'validation_failed' },
  { what: 'tus: no Tus-Resumable', method: 'POST', path: '/v1/uploads', headers: { 'upload-length': '10' }, status: 412, code: 'validation_failed' },
  { what: 'tus: an unsupported version (412, as tus 1.0 says)', method: 'POST', path: '/v1/uploads', headers: { 'tus-resumable': '0.2.2', 'upload-length': '10' }, status: 412, code: 'validation_failed' },
  { what: 'tus: a bad Upload-Length', method: 'POST', path: '/v1/uploads', headers: { ...TUS, 'upload-length': 'ten' }, status: 400, code: 'validation_failed' },
  { what: 'tus: no length at all', method: 'POST', path: '/v1/uploads', headers: { ...TUS }, status: 400, code: 'validation_failed' },
  { what: 'tus: over the size limit', method: 'POST', path: '/v1/uploads', headers: { ...TUS, 'upload-length': String(2 * 1024 ** 4) }, status: 413, code: 'file_too_large' },
  { what: 'tus: PATCH of an unknown upload', method: 'PATCH', path: '/v1/uploads/0123456789abcdef0123456789abcdef', headers: { ...TUS, ...OCTETS, 'upload-offset': '0' }, body: 'x', status: 404, code: 'not_found' },
  { what: 'tus: DELETE of an unknown upload', method: 'DELETE', path: '/v1/uploads/0123456789abcdef0123456789abcdef', headers: { ...TUS }, status: 404, code: 'not_found' },
];

describe('every error, from every layer, is a problem with a stable code', () => {
  test('a table of malformed requests', async () => {
    for (const c of CASES) {
      const answer = await raw(h, c.method, c.path, { ...auth, ...c.headers }, c.body);
      assertRawProblem(answer, c.status, c.code, c.what);
      assert.ok(answer.body.length < 2000, `${c.what}: the detail does not echo the request`);
    }
  });

  test('tus protocol errors keep their status and tus headers', async () => {
    const id = await createUpload(h, h.keyA, 10);
    const path = `/v1/uploads/${id}`;
    const conflict = await raw(h, 'PATCH', path, { ...auth, ...TUS, ...OCTETS, 'upload-offset': '5' }, 'hello');
    assertRawProblem(conflict, 409, 'upload_offset_mismatch', 'a PATCH at the wrong offset');
    assert.equal(conflict.headers['upload-offset'], '0', 'the offset to go on from');
    const oldVersion = await raw(h, 'HEAD', path, { ...auth, 'tus-resumable': '0.2.2' });
    assert.deepEqual([oldVersion.status, oldVersion.headers['tus-version']], [412, '1.0.0'], 'a version it does not speak: 412 with the one it does');
    assert.equal(conflict.headers['tus-resumable'], '1.0.0');
    const badType = await raw(h, 'PATCH', path, { ...auth, ...TUS, 'content-type': 'text/plain', 'upload-offset': '0' }, 'hello');
    assertRawProblem(badType, 415, 'unsupported_type', 'a PATCH that is not octets');
    const tooMuch = await raw(h, 'PATCH', path, { ...auth, ...TUS, ...OCTETS, 'upload-offset': '0' }, 'more than ten bytes');
    assert.ok(tooMuch.status >= 400, `over Upload-Length: ${tooMuch.status}`);
    assert.match(String(tooMuch.headers['content-type']), /^application\/problem\+json/);
    const code = (JSON.parse(tooMuch.body) as { code: string }).code;
    assert.ok(Object.hasOwn(ERROR_CODES, code), code);
  });

  test("Node's HTTP parser refusals are problems too", async () => {
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(new URL(h.url).port), '127.0.0.1');
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      socket.write('NOT HTTP AT ALL\r\n\r\n');
    });
    const [head = '', body = ''] = answer.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 400 /);
    assert.match(head, /content-type: application\/problem\+json/i);
    assert.equal((JSON.parse(body) as { code: string }).code, 'validation_failed');

    // A query parameter given twice arrives as an array: said so, not "must be string".
    const twice = await raw(h, 'GET', '/v1/jobs?limit=1&limit=2', auth);
    assertRawProblem(twice, 400, 'validation_failed', 'a query parameter given twice');
    assert.match((JSON.parse(twice.body) as { detail: string }).detail, /limit is given more than once/);

    const huge = await raw(h, 'GET', '/v1/jobs', { ...auth, 'x-big': 'y'.repeat(64 * 1024) });
    assert.equal(huge.status, 431);
    assert.match(String(huge.headers['content-type']), /^application\/problem\+json/);
    const problem = JSON.parse(huge.body) as { code: string; status: number };
    assert.deepEqual([problem.code, problem.status], ['validation_failed', 431]);
  });

  test('/v1/ws: a refused upgrade is a problem; bad messages answer an error with a stable code', async () => {
    const refused = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const socket = new WebSocket(`${h.url.replace('http', 'ws')}/v1/ws`);
      socket.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
      });
      socket.on('open', () => reject(new Error('opened without credentials')));
      socket.on('error', () => undefined);
    });
    assert.equal(refused.status, 401);
    assert.match(refused.type, /^application\/problem\+json/);
    assert.equal((JSON.parse(refused.body) as { code: string }).code, 'unauthorized');

    const socket = new WebSocket(`${h.url.replace('http', 'ws')}/v1/ws`, { headers: auth });
    const messages: Array<{ type: string; code?: string; requestId?: string }> = [];
    let wake: (() => void) | undefined;
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as { type: string; code?: string };
      if (message.type !== 'connected') messages.push(message); // the greeting is not an answer
      wake?.();
    });
    await new Promise<void>((resolve, reject) => socket.once('open', () => resolve()).once('error', reject));
    const sent = ['not json', '[]', '{"type":"explode","jobId":"x"}', '{"type":"subscribe"}', '{"type":"subscribe","jobId":"x","afterSeq":-1}', '{"type":"subscribe","jobId":"nope","requestId":"r"}'];
    for (const message of sent) socket.send(message);
    while (messages.length < sent.length) await new Promise<void>((resolve) => (wake = resolve));
    socket.close();
    const invalid = Array.from({ length: 5 }, () => ['error', 'validation_failed']);
    assert.deepEqual(messages.map((m) => [m.type, m.code]), [...invalid, ['error', 'not_found']]);
  });
});

test('an Upgrade to another protocol than WebSocket (curl --http2 asks for h2c) is ignored: the request is answered as HTTP/1.1', async () => {
  const h2c = { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA' };
  const listed = await raw(h, 'GET', '/v1/jobs', { ...h2c, ...auth });
  assert.equal(listed.status, 200, listed.body);
  const boundary = 'b0undary';
  const form = [`--${boundary}`, 'Content-Disposition: form-data; name="file"; filename="a.txt"', 'Content-Type: text/plain', '', 'hello', `--${boundary}--`, ''].join('\r\n');
  const stored = await raw(h, 'POST', '/v1/documents', { ...h2c, ...auth, 'content-type': `multipart/form-data; boundary=${boundary}` }, form);
  assert.equal(stored.status, 201, stored.body);
});

test('a WebSocket upgrade to a route that takes none is 400 validation_failed, not 101 and then closed; an unknown path stays 404', async () => {
  for (const [path, headers] of [['/v1/jobs', auth], ['/healthz', {}]] as const) {
    const refused = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const socket = new WebSocket(`${h.url.replace('http', 'ws')}${path}`, { headers });
      socket.on('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
      });
      socket.on('open', () => reject(new Error(`${path} opened a WebSocket`)));
      socket.on('error', () => undefined);
    });
    assertProblemParts(refused.status, refused.type, refused.body, { status: 400, code: 'validation_failed' }, path);
    assert.match(refused.body, /GET \/v1\/ws/);
  }
  const unknown = await new Promise<number>((resolve) => {
    const socket = new WebSocket(`${h.url.replace('http', 'ws')}/v1/nothing`, { headers: auth });
    socket.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    socket.on('error', () => undefined);
  });
  assert.equal(unknown, 404);
});
