import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ReamEvent } from '../../src/events/types.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import type { JobView } from '../../src/server/views.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { WsClient } from '../support/ws-client.ts';

let dir: string;
let ream: Ream;
let server: RunningServer;
let wsUrl: string;
let small: Uint8Array;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-ws-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 2 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0 });
  wsUrl = `${server.url.replace(/^http/, 'ws')}/v1/ws`;
  small = await makePdf({ pages: numberedPages('W', 4), title: 'W' });
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

async function submit(files: Array<[string, Uint8Array]>, options = '{"chunkPages":2}'): Promise<JobView> {
  const body = new FormData();
  body.append('options', options);
  for (const [name, bytes] of files) body.append('file', new Blob([bytes], { type: 'application/pdf' }), name);
  const response = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body });
  assert.equal(response.status, 202);
  return (await response.json()) as JobView;
}

describe('WebSocket /v1/ws', () => {
  let jobId: string;
  let events: ReamEvent[];

  test('subscribe follows a job to job.completed with gapless seq', async () => {
    const client = await WsClient.open(wsUrl);
    try {
      const job = await submit([['a.pdf', small], ['b.pdf', small]]);
      jobId = job.id;
      client.send({ type: 'subscribe', jobId });
      events = await client.eventsToEnd(jobId);
      assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'seq is gapless from 1');
      assert.equal(events[0]?.type, 'job.queued');
      assert.equal(events.at(-1)?.type, 'job.completed');
      assert.ok(events.some((e) => e.type === 'chunk.completed'));
    } finally {
      client.close();
    }
  });

  test('afterSeq replays exactly the later events; get_job_status answers the GET /v1/jobs/:id view', async () => {
    const client = await WsClient.open(wsUrl);
    try {
      client.send({ type: 'subscribe', jobId, afterSeq: 3 });
      const replayed = await client.eventsToEnd(jobId);
      assert.deepEqual(replayed.map((e) => e.seq), events.slice(3).map((e) => e.seq));

      client.send({ type: 'get_job_status', jobId, requestId: 'r1' });
      const status = await client.next((m) => m.type === 'job_status');
      assert.equal(status.type, 'job_status');
      assert.equal(status.requestId, 'r1');
      const viaHttp = (await (await fetch(`${server.url}/v1/jobs/${jobId}`)).json()) as JobView;
      assert.deepEqual(status.job, viaHttp);
      assert.equal(status.job.status, 'succeeded');
      assert.ok(status.job.progress.pagesDone > 0);
      assert.equal(status.job.progress.pagesDone, status.job.progress.pagesTotal);
    } finally {
      client.close();
    }
  });

  test('bad input answers an error message and the socket stays usable', async () => {
    const client = await WsClient.open(wsUrl);
    try {
      client.send('{not json');
      const bad = await client.next();
      assert.deepEqual({ type: bad.type, code: bad.type === 'error' ? bad.code : '' }, { type: 'error', code: 'validation_failed' });

      client.send({ type: 'dance', jobId, requestId: 'r2' });
      const unknownType = await client.next();
      assert.equal(unknownType.type, 'error');
      assert.equal(unknownType.requestId, 'r2');
      assert.equal(unknownType.type === 'error' ? unknownType.code : '', 'validation_failed');

      client.send({ type: 'subscribe', jobId, afterSeq: -1 });
      const badSeq = await client.next();
      assert.equal(badSeq.type === 'error' ? badSeq.code : '', 'validation_failed');

      client.send({ type: 'subscribe', jobId: 'job_nope', requestId: 'r3' });
      const missing = await client.next();
      assert.equal(missing.type, 'error');
      assert.equal(missing.type === 'error' ? missing.code : '', 'not_found');
      assert.equal(missing.requestId, 'r3');

      client.send({ type: 'get_job_status', jobId: 'job_nope' });
      const missingStatus = await client.next();
      assert.equal(missingStatus.type === 'error' ? missingStatus.code : '', 'not_found');

      assert.equal(client.socket.readyState, WebSocket.OPEN);
      client.send({ type: 'get_job_status', jobId });
      const status = await client.next();
      assert.equal(status.type, 'job_status');
    } finally {
      client.close();
    }
  });

  test('cancel_job stops a long job; subscribers see job.cancelled', async () => {
    const big = await makePdf({ pages: numberedPages('L', 300) });
    const client = await WsClient.open(wsUrl);
    try {
      const job = await submit([['long.pdf', big]], '{"chunkPages":1}');
      client.send({ type: 'subscribe', jobId: job.id });
      await client.next((m) => m.type === 'event' && m.event.jobId === job.id);
      client.send({ type: 'cancel_job', jobId: job.id, requestId: 'c1' });
      const answer = await client.next((m) => m.type === 'job_status');
      assert.equal(answer.type, 'job_status');
      assert.equal(answer.job.status, 'cancelled');
      assert.equal(answer.requestId, 'c1');
      const rest = await client.eventsToEnd(job.id);
      assert.equal(rest.at(-1)?.type, 'job.cancelled');
      const status = (await (await fetch(`${server.url}/v1/jobs/${job.id}`)).json()) as JobView;
      assert.ok(status.progress.pagesDone < 300, 'stopped before the end');
    } finally {
      client.close();
    }
  });

  test('unsubscribe stops the events of that job', async () => {
    const big = await makePdf({ pages: numberedPages('U', 60) });
    const client = await WsClient.open(wsUrl);
    try {
      const job = await submit([['u.pdf', big]], '{"chunkPages":1}');
      client.send({ type: 'subscribe', jobId: job.id });
      await client.next((m) => m.type === 'event' && m.event.jobId === job.id);
      client.send({ type: 'unsubscribe', jobId: job.id });
      // A status request after the unsubscribe is answered after it took effect (messages run in order).
      client.send({ type: 'get_job_status', jobId: job.id });
      await client.next((m) => m.type === 'job_status');
      await ream.wait(job.id);
      client.send({ type: 'get_job_status', jobId: job.id });
      const next = await client.next((m) => m.type !== 'event' || m.event.type === 'job.completed');
      assert.equal(next.type, 'job_status', 'no job.completed arrives after the unsubscribe');
    } finally {
      client.close();
    }
  });
});
