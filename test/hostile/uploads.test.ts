import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { TUS, assertProblem, call, createUpload, startHostile, type Hostile } from './harness.ts';

let h: Hostile;

before(async () => {
  h = await startHostile();
});
after(() => h.close());

function jobOver(token: string, uploads: string[]): Promise<Response> {
  return call(h, '/v1/jobs', token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uploads }) });
}

describe('a job over an upload that has not received all its bytes', () => {
  test('no bytes yet → 409 upload_incomplete; another tenant → 404', async () => {
    const id = await createUpload(h, h.keyA, 10);
    const jobsBefore = h.countRows('jobs', 'tenant-a');
    const response = await jobOver(h.keyA, [id]);
    const body = (await response.clone().json()) as { details?: { offset?: number; size?: number } };
    await assertProblem(response, 409, 'upload_incomplete', 'own upload, no bytes');
    assert.deepEqual(body.details, { offset: 0, size: 10 });
    await assertProblem(await jobOver(h.keyB, [id]), 404, 'not_found', "another tenant's upload");
    assert.equal(h.countRows('jobs', 'tenant-a'), jobsBefore, 'no job was created');
  });

  test('part of the bytes → 409; deferred length → 409; finished → the job is made', async () => {
    const id = await createUpload(h, h.keyA, 10);
    const patched = await call(h, `/v1/uploads/${id}`, h.keyA, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '0', 'Content-Type': 'application/offset+octet-stream' },
      body: 'hello',
    });
    assert.equal(patched.status, 204);
    await assertProblem(await jobOver(h.keyA, [id]), 409, 'upload_incomplete', 'half uploaded');
    await assertProblem(await jobOver(h.keyB, [id]), 404, 'not_found', "another tenant's half upload");

    const deferred = await call(h, '/v1/uploads', h.keyA, { method: 'POST', headers: { ...TUS, 'Upload-Defer-Length': '1' } });
    assert.equal(deferred.status, 201);
    await assertProblem(await jobOver(h.keyA, [(deferred.headers.get('location') ?? '').split('/').pop() ?? '']), 409, 'upload_incomplete', 'deferred length');

    const rest = await call(h, `/v1/uploads/${id}`, h.keyA, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '5', 'Content-Type': 'application/offset+octet-stream' },
      body: 'world',
    });
    assert.equal(rest.status, 204, await rest.text());
    assert.equal((await jobOver(h.keyA, [id])).status, 202);
  });

  test('an upload id that was never made is 404, shaped like a tus id or not', async () => {
    await assertProblem(await jobOver(h.keyA, ['0123456789abcdef0123456789abcdef']), 404, 'not_found');
    await assertProblem(await jobOver(h.keyA, ['../../etc/passwd']), 404, 'not_found');
  });
});

describe('tus headers that are not numbers a length can be', () => {
  test('an Upload-Length that is negative, fractional or not a number is 400 validation_failed, never file_too_large', async () => {
    for (const length of ['-1', '-10', '1.5', 'abc', '1e3']) {
      const created = await call(h, '/v1/uploads', h.keyA, { method: 'POST', headers: { ...TUS, 'Upload-Length': length } });
      await assertProblem(created, 400, 'validation_failed', `Upload-Length ${length}`);
    }
  });
});
