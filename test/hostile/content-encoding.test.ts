// A request body sent compressed (Content-Encoding) is refused before it is read: no route
// decodes one, so its compressed bytes were parsed as JSON or multipart (a misleading 400) or,
// through tus, stored as the upload's content and refused only at its end for what they looked like.
import assert from 'node:assert/strict';
import { deflateSync, gzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import { assertRawProblem, call, createUpload, raw, startHostile, TUS, type Hostile } from './harness.ts';

let h: Hostile;

before(async () => {
  h = await startHostile();
});
after(async () => {
  await h.close();
});

const auth = (): Record<string, string> => ({ authorization: `Bearer ${h.keyA}` });

test('a JSON body with Content-Encoding gzip or br is 415 unsupported_type naming the encoding; identity passes', async () => {
  const json = '{"documents":["doc_none"]}';
  for (const [encoding, body] of [['gzip', gzipSync(json)], ['br', Buffer.from(json)], ['gzip, identity', gzipSync(json)]] as const) {
    const answer = await raw(h, 'POST', '/v1/jobs', { ...auth(), 'content-type': 'application/json', 'content-encoding': encoding }, body);
    assertRawProblem(answer, 415, 'unsupported_type', encoding);
    assert.match(answer.body, /Content-Encoding/);
  }
  // identity is no encoding: the body is read (here: the document does not exist).
  const plain = await raw(h, 'POST', '/v1/jobs', { ...auth(), 'content-type': 'application/json', 'content-encoding': 'identity' }, json);
  assertRawProblem(plain, 404, 'not_found', 'identity');
});

test('a multipart upload with Content-Encoding gzip is 415, and nothing is stored', async () => {
  const boundary = 'xyz';
  const form = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nsome text\r\n--${boundary}--\r\n`;
  const answer = await raw(h, 'POST', '/v1/documents', { ...auth(), 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-encoding': 'gzip' }, gzipSync(form));
  assertRawProblem(answer, 415, 'unsupported_type');
  assert.equal(h.countRows('documents', 'tenant-a'), 0);
});

test('a tus PATCH with Content-Encoding deflate is 415 and writes none of its bytes', async () => {
  const text = Buffer.from('plain text, sent compressed\n'.repeat(20));
  const compressed = deflateSync(text);
  const id = await createUpload(h, h.keyA, compressed.length);
  const answer = await raw(h, 'PATCH', `/v1/uploads/${id}`, { ...auth(), ...TUS, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream', 'content-encoding': 'deflate' }, compressed);
  assertRawProblem(answer, 415, 'unsupported_type');
  const head = await call(h, `/v1/uploads/${id}`, h.keyA, { method: 'HEAD', headers: TUS });
  assert.equal(head.headers.get('upload-offset'), '0');
});

test('an unauthenticated request with Content-Encoding is 401 unauthorized, not 415: credentials come first', async () => {
  const json = '{"documents":["doc_none"]}';
  for (const headers of [{}, { authorization: 'Bearer ream_not_a_key' }] as Array<Record<string, string>>) {
    const answer = await raw(h, 'POST', '/v1/jobs', { ...headers, 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(json));
    assertRawProblem(answer, 401, 'unauthorized');
  }
  // A path no route matches needs credentials too: no 415 tells an anonymous client it is there.
  assertRawProblem(await raw(h, 'POST', '/v1/nothing-here', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(json)), 401, 'unauthorized');
});
