import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import WebSocket from 'ws';
import { TUS, assertProblem, assertRawProblem, call, createUpload, raw, startHostile, storeDocument, type Hostile } from './harness.ts';

/** Probes that held when they were first tried: kept so they keep holding. */
let h: Hostile;
let jobA: string;
let docA: string;
let uploadA: string;
let pendingUploadA: string;

before(async () => {
  h = await startHostile();
  const body = new FormData();
  body.append('file', new Blob(['tenant a secret text'], { type: 'text/plain' }), 'a.txt');
  const job = await call(h, '/v1/jobs', h.keyA, { method: 'POST', body });
  assert.equal(job.status, 202);
  jobA = ((await job.json()) as { id: string }).id;
  docA = (await storeDocument(h, h.keyA, 'another secret of tenant a')).id;
  uploadA = await createUpload(h, h.keyA, 5, new TextEncoder().encode('hello'), `filename ${Buffer.from('u.txt').toString('base64')}`);
  pendingUploadA = await createUpload(h, h.keyA, 100);
});
after(() => h.close());

describe("another tenant's ids are 404 on every route", () => {
  test('jobs, documents, uploads, results, events', async () => {
    const B = h.keyB;
    const json = { 'content-type': 'application/json' };
    const probes: Array<[string, string, RequestInit?]> = [
      ['GET', `/v1/jobs/${jobA}`],
      ['GET', `/v1/jobs/${jobA}/results`],
      ['GET', `/v1/jobs/${jobA}/results`, { headers: { accept: 'application/x-ndjson' } }],
      ['GET', `/v1/jobs/${jobA}/artifacts`],
      ['GET', `/v1/jobs/${jobA}/artifacts/row-1.html`],
      ['GET', `/v1/jobs/${jobA}/artifacts/row-1.html`, { headers: { range: 'bytes=0-1' } }],
      ['GET', `/v1/jobs/${jobA}/artifacts.zip`],
      ['GET', `/v1/jobs/${jobA}/events`],
      ['GET', `/v1/jobs/${jobA}/events`, { headers: { 'last-event-id': '0' } }],
      ['POST', `/v1/jobs/${jobA}/cancel`],
      ['POST', `/v1/jobs/${jobA}/retry`],
      ['DELETE', `/v1/jobs/${jobA}`],
      ['GET', `/v1/documents/${docA}`],
      ['GET', `/v1/uploads/${uploadA}`],
      ['GET', `/v1/uploads/${pendingUploadA}`],
      ['POST', '/v1/jobs', { headers: json, body: JSON.stringify({ documents: [docA] }) }],
      ['POST', '/v1/jobs', { headers: json, body: JSON.stringify({ uploads: [uploadA] }) }],
      ['POST', '/v1/jobs', { headers: json, body: JSON.stringify({ uploads: [pendingUploadA] }) }],
      ['PATCH', `/v1/uploads/${pendingUploadA}`, { headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' }, body: 'x' }],
      ['DELETE', `/v1/uploads/${pendingUploadA}`, { headers: TUS }],
      ['DELETE', `/v1/uploads/${uploadA}`, { headers: TUS }],
    ];
    // An upload named in the query (tus read the id from the whole URL): `x?/<id>`, or an own upload's id before it.
    const uploadB = await createUpload(h, B, 100);
    for (const via of ['x?/', `${uploadB}?/`, 'x?a=/']) {
      probes.push(
        ['PATCH', `/v1/uploads/${via}${pendingUploadA}`, { headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' }, body: 'x' }],
        ['DELETE', `/v1/uploads/${via}${pendingUploadA}`, { headers: TUS }],
      );
    }
    for (const [method, path, init] of probes) {
      const answer = await call(h, path, B, { ...init, method });
        // A query parameter no route takes (`?/<id>`, `?a=/<id>`) is refused before any upload is looked at.
      if (path.includes('?')) await assertProblem(answer, 400, 'validation_failed', `${method} ${path}`);
      else await assertProblem(answer, 404, 'not_found', `${method} ${path}`);
    }
    for (const id of [uploadA, pendingUploadA, `x?/${pendingUploadA}`]) {
      const head = await call(h, `/v1/uploads/${id}`, B, { method: 'HEAD', headers: TUS });
      assert.equal(head.status, id.includes('?') ? 400 : 404, `HEAD ${id}`);
      assert.equal(head.headers.get('upload-metadata'), null, `HEAD ${id} says nothing of the upload`);
    }
    // Still there for their owner: the probes changed nothing.
    assert.equal((await call(h, `/v1/jobs/${jobA}`, h.keyA)).status, 200);
    assert.equal(((await (await call(h, `/v1/uploads/${pendingUploadA}`, h.keyA)).json()) as { status: string }).status, 'uploading');
    assert.equal((await call(h, `/v1/uploads/${pendingUploadA}`, h.keyA, { method: 'HEAD', headers: TUS })).headers.get('upload-offset'), '0', 'no byte of B went into A\'s upload');
    assert.equal(((await (await call(h, `/v1/uploads/${uploadA}`, h.keyA)).json()) as { status: string }).status, 'stored');
  });

  test('lists and search never show another tenant', async () => {
    const list = (await (await call(h, '/v1/jobs?limit=500', h.keyB)).json()) as { items: Array<{ id: string }> };
    assert.ok(list.items.every((job) => job.id !== jobA));
    await assertProblem(await call(h, '/v1/search?q=secret&tenant=tenant-a', h.keyB), 403, 'forbidden', 'search of another tenant');
    const hits = (await (await call(h, '/v1/search?q=secret', h.keyB)).json()) as { items: unknown[] };
    assert.deepEqual(hits.items, []);
  });

  test('WebSocket: subscribe, get_job_status, cancel_job on another tenant\'s job → not_found', async () => {
    const socket = new WebSocket(`${h.url.replace('http', 'ws')}/v1/ws`, { headers: { authorization: `Bearer ${h.keyB}` } });
    const messages: Array<{ type: string; code?: string; requestId?: string }> = [];
    let wake: (() => void) | undefined;
    socket.on('message', (data: Buffer) => {
      const message = JSON.parse(data.toString('utf8')) as { type: string };
      if (message.type !== 'connected') messages.push(message); // the greeting is not an answer
      wake?.();
    });
    await new Promise<void>((resolve, reject) => socket.once('open', () => resolve()).once('error', reject));
    for (const type of ['subscribe', 'get_job_status', 'cancel_job']) socket.send(JSON.stringify({ type, jobId: jobA, requestId: type }));
    while (messages.length < 3) await new Promise<void>((resolve) => (wake = resolve));
    socket.close();
    assert.deepEqual(messages.map((m) => [m.type, m.code, m.requestId]).sort(), [
      ['error', 'not_found', 'cancel_job'],
      ['error', 'not_found', 'get_job_status'],
      ['error', 'not_found', 'subscribe'],
    ]);
    assert.notEqual(((await (await call(h, `/v1/jobs/${jobA}`, h.keyA)).json()) as { status: string }).status, 'cancelled');
  });
});

describe('path tricks', () => {
  test('encoded traversal, double slashes, trailing slashes, NUL: a problem, never another route', async () => {
    const auth = { authorization: `Bearer ${h.keyA}` };
    const table: Array<[string, number, string]> = [
      ['/v1/jobs/..%2f..%2fmetrics', 404, 'not_found'],
      ['/v1/jobs/..%2F..%2Fv1%2Fworkers', 404, 'not_found'],
      [`/v1/jobs/${jobA}/..%2f..%2f..%2fmetrics`, 404, 'not_found'],
      ['/v1/jobs/%2e%2e', 404, 'not_found'],
      ['//v1/jobs', 404, 'not_found'],
      ['/v1//jobs', 404, 'not_found'],
      ['//metrics', 404, 'not_found'],
      ['/v1/jobs/', 400, 'validation_failed'],
      // No id holds a NUL (a store could not keep one): refused as bad input.
      ['/v1/jobs/%00', 400, 'validation_failed'],
      [`/v1/jobs/${jobA}%00`, 400, 'validation_failed'],
      ['/ui/..%2f..%2fpackage.json', 404, 'not_found'],
      ['/ui/%2e%2e%2fpackage.json', 404, 'not_found'],
    ];
    for (const [path, status, code] of table) {
      const answer = await raw(h, 'GET', path, auth);
      assertRawProblem(answer, status, code, path);
      assert.ok(!answer.body.includes('ream_jobs'), `${path}: no metrics`);
    }
    // Trailing slashes are other (unknown) paths, even with the owner's key.
    for (const path of [`/v1/jobs/${jobA}/`, '/metrics/', '/v1/workers/']) assertRawProblem(await raw(h, 'GET', path, auth), 404, 'not_found', path);
  });
});

describe('bad pagination → 400 validation_failed', () => {
  test('limit and cursor of /v1/jobs, limit of /v1/search', async () => {
    const paths = [
      '/v1/jobs?limit=-1',
      '/v1/jobs?limit=0',
      '/v1/jobs?limit=1e9',
      '/v1/jobs?limit=1000000000',
      '/v1/jobs?limit=501',
      '/v1/jobs?limit=1.5',
      '/v1/jobs?limit=abc',
      '/v1/jobs?cursor=garbage',
      '/v1/jobs?cursor=%00%ff',
      `/v1/jobs?cursor=${'A'.repeat(5000)}`,
      '/v1/jobs?cursor=eyJhIjoxfQ',
      '/v1/search?q=x&limit=-1',
      '/v1/search?q=x&limit=1e9',
      '/v1/search?q=x&limit=abc',
    ];
    for (const path of paths) await assertProblem(await call(h, path, h.keyA), 400, 'validation_failed', path);
  });
});
