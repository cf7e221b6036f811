import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { requireOrSkip } from '../support/env.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';
import { withTwoInstances } from './two-instances.ts';

const missing = (await redisUnavailable()) ?? (await postgresUnavailable());

void test('behind two server instances: a tus upload started on one finishes on the other, and a job on it completes', { timeout: 900_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  await withTwoInstances(async (cluster, a, b) => {
    const pdf = await makePdf({ pages: numberedPages('two instances', 12) });
    const half = Math.floor(pdf.byteLength / 2);
    const tus = { 'tus-resumable': '1.0.0' };
    const created = await fetch(`${a}/v1/uploads`, {
      method: 'POST',
      headers: { ...tus, 'upload-length': String(pdf.byteLength), 'upload-metadata': `filename ${Buffer.from('split.pdf').toString('base64')}` },
    });
    assert.equal(created.status, 201, await created.text());
    const path = new URL(created.headers.get('location') ?? '', a).pathname;
    const patch = (base: string, from: number, to: number): Promise<Response> =>
      fetch(`${base}${path}`, {
        method: 'PATCH',
        headers: { ...tus, 'upload-offset': String(from), 'content-type': 'application/offset+octet-stream' },
        body: pdf.subarray(from, to),
      });
    assert.equal((await patch(a, 0, half)).status, 204);
    // The other instance knows the upload and where it stands: the bytes are in the bucket, the metadata in Redis.
    const head = await fetch(`${b}${path}`, { method: 'HEAD', headers: tus });
    assert.equal(head.status, 200);
    assert.equal(head.headers.get('upload-offset'), String(half));
    const finished = await patch(b, half, pdf.byteLength);
    assert.equal(finished.status, 204);
    const documentId = finished.headers.get('ream-document-id');
    assert.match(documentId ?? '', /.+/);
    // Either instance answers for the finished upload (its record is in PostgreSQL).
    const uploadId = path.split('/').pop() ?? '';
    const record = (await (await fetch(`${a}/v1/uploads/${uploadId}`)).json()) as { status: string; documentId: string };
    assert.deepEqual([record.status, record.documentId], ['stored', documentId]);

    const client = new ReamClient({ baseUrl: b });
    const job = await client.submit({ uploads: [uploadId], pipeline: 'slow', options: { chunkPages: 4, msPerPage: 1 } });
    const done = await new ReamClient({ baseUrl: a }).wait(job.id, { signal: AbortSignal.timeout(60_000) });
    assert.equal(done.status, 'succeeded', cluster.output());
    const [result] = await client.results(job.id);
    assert.equal(result?.pageCount, 12);
    assert.match(result?.pages[11]?.text ?? '', /two instances/);
  });
});
