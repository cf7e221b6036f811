import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { ReamClient } from '../../src/client/index.ts';
import { ReamError } from '../../src/errors.ts';
import type { ReamEvent } from '../../src/events/types.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import type { JobView } from '../../src/server/views.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { countingAnalyzer, extractWith } from '../support/analyzers.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';

let dir: string;
let ream: Ream;
let server: RunningServer;
let pdf: Uint8Array;
/** Calls per first page; a page range whose first page is >= 3 fails (non-retryably) on its first call. */
const calls = new Map<number, number>();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-lifecycle-'));
  const flaky = countingAnalyzer(calls, (first, n) => (first >= 3 && n === 1 ? ReamError.nonRetryable('analyzer_failed', 'down for now') : undefined));
  ream = await createReam({
    dataDir: join(dir, 'data'),
    threads: 1,
    pipelines: extractWith('once', flaky),
    webhooks: { retryBaseMs: 20, retryMaxMs: 50, allowPrivate: ['127.0.0.0/8'] }, // the receiver is on loopback
  });
  server = await startServer({ ream, host: '127.0.0.1', port: 0 });
  pdf = await makePdf({ pages: numberedPages('W', 4) });
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

function form(fields: Record<string, string>, name = 'w.pdf', bytes: Uint8Array = pdf): FormData {
  const body = new FormData();
  for (const [key, value] of Object.entries(fields)) body.append(key, value);
  body.append('file', new Blob([bytes], { type: 'application/pdf' }), name);
  return body;
}

async function post(path: string, body?: FormData): Promise<Response> {
  return fetch(`${server.url}${path}`, { method: 'POST', ...(body ? { body } : {}) });
}

describe('job retry, delete and webhooks over HTTP', () => {
  test('POST /v1/jobs/:id/retry reruns the failed chunks: 202, then succeeded', async () => {
    calls.clear();
    const created = (await (await post('/v1/jobs', form({ pipeline: 'once', options: '{"chunkPages":2}' }))).json()) as JobView;
    assert.equal((await ream.wait(created.id)).status, 'partially_succeeded');
    const response = await post(`/v1/jobs/${created.id}/retry`);
    assert.equal(response.status, 202);
    const view = (await response.json()) as JobView;
    assert.equal(view.status, 'running');
    assert.equal((await ream.wait(created.id)).status, 'succeeded');
    assert.deepEqual([...calls.entries()].sort((a, b) => a[0] - b[0]), [[1, 1], [3, 2]]);
    // Followed from its start, the job's stream goes past the first run's end to the retry's.
    const followed: ReamEvent[] = [];
    for await (const event of new ReamClient({ baseUrl: server.url }).events(created.id)) followed.push(event);
    const ends = followed.filter((event) => event.type.startsWith('job.') && ['job.completed', 'job.failed', 'job.cancelled'].includes(event.type));
    assert.deepEqual(ends.map((event) => event.type), ['job.completed', 'job.completed'], 'both runs\' ends');
    assert.equal(followed.at(-1)?.seq, (await ream.listEvents(created.id, 0, 10_000)).at(-1)?.seq, 'to the last event stored');
    const again = await post(`/v1/jobs/${created.id}/retry`);
    assert.equal(again.status, 400);
    assert.equal(((await again.json()) as { code: string }).code, 'validation_failed');
    assert.equal((await post('/v1/jobs/job_nope/retry')).status, 404);
  });

  test('DELETE /v1/jobs/:id removes the job and its records; its document stays', async () => {
    const created = (await (await post('/v1/jobs', form({}, 'd.pdf'))).json()) as JobView;
    await ream.wait(created.id);
    const [doc] = await ream.jobDocuments(created.id);
    assert.ok(doc);
    const response = await fetch(`${server.url}/v1/jobs/${created.id}`, { method: 'DELETE' });
    assert.equal(response.status, 204);
    assert.equal((await fetch(`${server.url}/v1/jobs/${created.id}`)).status, 404);
    const store = adaptersOf(ream).store;
    assert.equal(await store.getJob(created.id), undefined);
    assert.deepEqual(await store.listJobDocuments(created.id), []);
    assert.deepEqual(await store.listChunkResults(created.id, doc.documentId), []);
    assert.equal(await store.getDocumentResult(created.id, doc.documentId), undefined);
    assert.deepEqual(await store.listEvents(created.id, 0), []);
    assert.ok(await store.getDocument(doc.documentId), 'the document itself stays');
    assert.equal((await fetch(`${server.url}/v1/jobs/${created.id}`, { method: 'DELETE' })).status, 404);
  });

  test('DELETE /v1/jobs/:id of a job whose deletion was cut short accepts it and finishes the deletion', async () => {
    const created = (await (await post('/v1/jobs', form({}, 'cut.pdf'))).json()) as JobView;
    await ream.wait(created.id);
    // Marked as under deletion, its rows left: as a deletion cut short by a crash leaves it.
    const raw = new Database(join(dir, 'data', 'ream.db'));
    try {
      raw.pragma('busy_timeout = 10000');
      raw.prepare('update jobs set deleting_at = 1 where id = ?').run(created.id);
    } finally {
      raw.close();
    }
    assert.equal((await fetch(`${server.url}/v1/jobs/${created.id}`)).status, 404, 'gone to readers');
    const store = adaptersOf(ream).store;
    assert.ok(await store.getJob(created.id, { deleting: true }), 'its rows are there');
    assert.equal((await fetch(`${server.url}/v1/jobs/${created.id}`, { method: 'DELETE' })).status, 204);
    assert.equal(await store.getJob(created.id, { deleting: true }), undefined, 'the deletion finished');
    assert.deepEqual(await store.listEvents(created.id, 0), []);
    assert.equal((await fetch(`${server.url}/v1/jobs/${created.id}`, { method: 'DELETE' })).status, 404);
  });

  test('a running job is cancelled, then deleted', async () => {
    const big = await makePdf({ pages: numberedPages('X', 60) });
    const created = (await (await post('/v1/jobs', form({ options: '{"chunkPages":1}' }, 'big.pdf', big))).json()) as JobView;
    const response = await fetch(`${server.url}/v1/jobs/${created.id}`, { method: 'DELETE' });
    assert.equal(response.status, 204);
    assert.equal(await ream.getJob(created.id), undefined);
  });

  test('webhook: the terminal event is POSTed, signed, and retried after a 500', async () => {
    const secret = 'shh-its-a-secret';
    const deliveries: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
    let delivered: (() => void) | undefined;
    const done = new Promise<void>((resolveDone) => { delivered = resolveDone; });
    const receiver: Server = createServer((request, response) => {
      const parts: Buffer[] = [];
      request.on('data', (part: Buffer) => parts.push(part));
      request.on('end', () => {
        deliveries.push({ headers: request.headers, body: Buffer.concat(parts).toString('utf8') });
        response.statusCode = deliveries.length === 1 ? 500 : 204;
        response.end();
        if (deliveries.length === 2) delivered?.();
      });
    });
    await new Promise<void>((resolveListen) => receiver.listen(0, '127.0.0.1', resolveListen));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const refused = await post('/v1/jobs', form({ webhook: JSON.stringify({ url: 'file:///etc/passwd' }) }));
      assert.equal(refused.status, 400);
      const response = await post('/v1/jobs', form({ webhook: JSON.stringify({ url, secret }) }, 'hook.pdf', await makePdf({ pages: numberedPages('H', 2) })));
      assert.equal(response.status, 202);
      const created = (await response.json()) as JobView;
      assert.equal(JSON.stringify(created.options).includes(secret), false, 'the secret is never shown');
      await done;
      assert.equal(deliveries.length, 2);
      const [first, second] = deliveries;
      assert.equal(first?.body, second?.body, 'the same payload each attempt');
      const payload = JSON.parse(second?.body ?? '{}') as { event: string; job: JobView };
      assert.equal(payload.event, 'job.completed');
      assert.equal(payload.job.id, created.id);
      assert.equal(payload.job.status, 'succeeded');
      // Verify as a receiver would: HMAC-SHA256(secret, "<t>.<raw body>"), compared in constant time.
      const header = String(second?.headers['ream-signature'] ?? '');
      const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
      assert.ok(match, `signature header: ${header}`);
      const [, t, v1] = match;
      const expected = createHmac('sha256', secret).update(`${t}.${second?.body ?? ''}`).digest();
      assert.ok(timingSafeEqual(expected, Buffer.from(v1 ?? '', 'hex')));
      assert.ok(Math.abs(Date.now() / 1000 - Number(t)) < 300, 'fresh timestamp');
    } finally {
      await new Promise<void>((resolveClose) => receiver.close(() => resolveClose()));
    }
  });
});
