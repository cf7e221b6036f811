// `cancel_document` over /v1/ws, in both dialects: answered like `cancel_job` (the job's status),
// errors as problem codes, and scoped to the caller's tenant.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ReamClient, type JobView } from '../../src/client/index.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { pipelines } from '../fixtures/slow-pipeline.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { WsClient } from '../support/ws-client.ts';
import { issueTenantKeys } from '../support/tenant-keys.ts';

let dir: string;
let ream: Ream;
let server: RunningServer;
let wsUrl: string;
let keyA: string;
let keyB: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-ws-cancel-document-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, pipelines });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } });
  wsUrl = `${server.url.replace(/^http/, 'ws')}/v1/ws`;
  ({ a: keyA, b: keyB } = await issueTenantKeys(ream));
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

/** A gated job of tenant a with two documents, held until `release` is called; with their ids in order. */
async function gatedJob(name: string): Promise<{ job: JobView; ids: string[]; release: () => Promise<void> }> {
  const releaseFile = join(dir, `release-${name}`);
  const client = new ReamClient({ baseUrl: server.url, apiKey: keyA });
  const job = await client.submit({
    files: [{ name: 'stop.pdf', data: await makePdf({ pages: numberedPages('stop', 2) }) }, { name: 'keep.pdf', data: await makePdf({ pages: ['keep'] }) }],
    pipeline: 'gated',
    options: { chunkPages: 1, releaseFile },
  });
  const ids = (await client.jobDocuments(job.id)).items.map((d) => d.id);
  return { job, ids, release: () => writeFile(releaseFile, '') };
}

async function documentStatuses(jobId: string): Promise<string[]> {
  return (await ream.jobDocuments(jobId)).map((d) => d.status);
}

describe('cancel_document over WebSocket', () => {
  test('ream dialect: the document ends cancelled, the other goes on, the answer is the job\'s status', { timeout: 60_000 }, async () => {
    const { job, ids, release } = await gatedJob('ream');
    const client = await WsClient.open(wsUrl, ['ream.v1', `bearer.${keyA}`]);
    try {
      client.send({ type: 'cancel_document', jobId: job.id, documentId: ids[0], requestId: 'd1' });
      const answer = await client.next();
      assert.equal(answer.type, 'job_status');
      assert.equal(answer.type === 'job_status' ? answer.requestId : '', 'd1');
      assert.equal(answer.type === 'job_status' ? answer.job.id : '', job.id);
      assert.equal(answer.type === 'job_status' ? answer.job.status : '', 'running', 'the other document goes on');
      assert.equal((await documentStatuses(job.id))[0], 'cancelled');

      client.send({ type: 'cancel_document', jobId: job.id, documentId: 'doc_nope', requestId: 'd2' });
      const missing = await client.next();
      assert.deepEqual([missing.type, missing.type === 'error' ? missing.code : '', missing.type === 'error' ? missing.requestId : ''], ['error', 'not_found', 'd2']);
      client.send({ type: 'cancel_document', jobId: job.id });
      const invalid = await client.next();
      assert.deepEqual([invalid.type, invalid.type === 'error' ? invalid.code : ''], ['error', 'validation_failed'], 'no documentId');

      await release();
      const ended = await ream.wait(job.id);
      assert.equal(ended.status, 'partially_succeeded');
      assert.deepEqual(await documentStatuses(job.id), ['cancelled', 'succeeded']);
    } finally {
      client.close();
    }
  });

  test('the document service\'s dialect: job_id, document_id, request_id; answered with job_status_response', { timeout: 60_000 }, async () => {
    const { job, ids, release } = await gatedJob('seed');
    const client = await WsClient.open(wsUrl, ['ream.v1', `bearer.${keyA}`]);
    try {
      client.send({ type: 'cancel_document', job_id: job.id, document_id: ids[1], request_id: 's1' });
      const answer = (await client.next()) as { type: string; job_id?: string; status?: string; request_id?: string };
      assert.deepEqual([answer.type, answer.job_id, answer.status, answer.request_id], ['job_status_response', job.id, 'running', 's1']);
      client.send({ type: 'cancel_document', job_id: job.id, document_id: 'doc_nope', request_id: 's2' });
      const missing = (await client.next()) as { type: string; code?: string; request_id?: string };
      assert.deepEqual([missing.type, missing.code, missing.request_id], ['error', 'not_found', 's2']);
      await release();
      assert.equal((await ream.wait(job.id)).status, 'partially_succeeded');
      assert.deepEqual(await documentStatuses(job.id), ['succeeded', 'cancelled']);
    } finally {
      client.close();
    }
  });

  test('another tenant\'s job is not_found and its document goes on', { timeout: 60_000 }, async () => {
    const { job, ids, release } = await gatedJob('tenant');
    const client = await WsClient.open(wsUrl, ['ream.v1', `bearer.${keyB}`]);
    try {
      client.send({ type: 'cancel_document', jobId: job.id, documentId: ids[0], requestId: 'b1' });
      const answer = await client.next();
      assert.deepEqual([answer.type, answer.type === 'error' ? answer.code : '', answer.type === 'error' ? answer.requestId : ''], ['error', 'not_found', 'b1']);
      client.send({ type: 'cancel_document', job_id: job.id, document_id: ids[0], request_id: 'b2' });
      const seed = (await client.next()) as { type: string; code?: string; request_id?: string };
      assert.deepEqual([seed.type, seed.code, seed.request_id], ['error', 'not_found', 'b2']);
      await release();
      assert.equal((await ream.wait(job.id)).status, 'succeeded', 'nothing of it was cancelled');
    } finally {
      client.close();
    }
  });
});
