import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { startCluster, type Cluster } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';
import { waitFor } from './batch-checks.ts';

const missing = (await redisUnavailable()) ?? (await postgresUnavailable());

interface WorkerView {
  pid: number;
  inFlight: number;
}

async function workers(url: string): Promise<WorkerView[]> {
  const response = await fetch(`${url}/v1/workers`);
  return ((await response.json()) as { items: WorkerView[] }).items;
}

/** Two server instances (no work) and two workers of one deployment. */
async function withTwoInstances(run: (cluster: Cluster, a: string, b: string) => Promise<void>): Promise<void> {
  const cluster = await startCluster({ workers: 2, workerArgs: ['--concurrency', '2', '--threads', '1', '--lease', '5'] });
  try {
    const second = await cluster.startServer();
    await run(cluster, cluster.server.url, second.url);
  } finally {
    await cluster.stop();
  }
}

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

void test('a cancel sent to one instance aborts the job\'s tasks running in the worker processes', { timeout: 900_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  await withTwoInstances(async (cluster, a, b) => {
    // Chunks of 8 pages at 15 s a page: two minutes each if nothing stops them.
    const pdf = await makePdf({ pages: numberedPages('cancel me', 64) });
    const client = new ReamClient({ baseUrl: a });
    const job = await client.submit({ files: [{ name: 'long.pdf', data: pdf }], pipeline: 'slow', options: { chunkPages: 8, msPerPage: 15_000 } });
    await waitFor(async () => {
      const busy = (await workers(a)).filter((w) => w.inFlight > 0);
      return busy.length === 2 ? busy : undefined;
    }, 60_000, () => `the workers did not take the job's chunks:\n${cluster.output()}`);

    const cancelledAt = Date.now();
    const cancelled = await new ReamClient({ baseUrl: b }).cancel(job.id);
    assert.equal(cancelled.status, 'cancelled');
    // Running tasks end within a heartbeat or two, far sooner than the two minutes they would take.
    await waitFor(async () => ((await workers(a)).every((w) => w.inFlight === 0) ? true : undefined), 90_000, () => `tasks still running after the cancel:\n${cluster.output()}`);
    const stoppedAfter = Date.now() - cancelledAt;
    t.diagnostic(`running tasks stopped ${stoppedAfter} ms after the cancel`);
    assert.ok(stoppedAfter < 90_000);

    const view = await client.getJob(job.id);
    assert.equal(view.status, 'cancelled');
    assert.equal(view.counts.chunks.succeeded, 0, 'no chunk ran to its end');
  });
});
