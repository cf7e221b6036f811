import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import type { ReamEvent } from '../../src/events/types.ts';
import type { DocumentOutput } from '../../src/pipeline/types.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { END_EVENT_GRACE_MS } from '../../src/server/follow-events.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import type { JobView } from '../../src/server/views.ts';
import { makePdf, makeScannedPdf, numberedPages } from '../support/make-pdf.ts';

let dir: string;
let ream: Ream;
let server: RunningServer;
let small: Uint8Array;
let other: Uint8Array;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-server-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 2 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0 });
  small = await makePdf({ pages: numberedPages('A', 3), title: 'A' });
  other = await makePdf({ pages: numberedPages('B', 2), title: 'B' });
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

function form(files: Array<[string, Uint8Array]>, fields: Record<string, string> = {}): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  for (const [name, bytes] of files) body.append('file', new Blob([bytes], { type: 'application/pdf' }), name);
  return body;
}

async function submit(body: FormData, headers: Record<string, string> = {}): Promise<{ response: Response; job: JobView }> {
  const response = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body, headers });
  const job = (await response.json()) as JobView;
  return { response, job };
}

/** Reads an SSE stream to its end (the server closes it after the terminal event). */
async function readSse(url: string, headers: Record<string, string> = {}): Promise<ReamEvent[]> {
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(120_000) });
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
  const text = await response.text();
  const events: ReamEvent[] = [];
  for (const block of text.split('\n\n')) {
    const lines = block.split('\n');
    const id = lines.find((l) => l.startsWith('id: '))?.slice(4);
    const type = lines.find((l) => l.startsWith('event: '))?.slice(7);
    const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
    if (data === undefined) continue;
    const event = JSON.parse(data) as ReamEvent;
    assert.equal(String(event.seq), id);
    assert.equal(event.type, type);
    events.push(event);
  }
  return events;
}

async function assertProblem(response: Response, status: number, code: string): Promise<void> {
  assert.equal(response.status, status);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
  const body = (await response.json()) as Record<string, unknown>;
  assert.equal(body.code, code);
  assert.equal(body.status, status);
  assert.equal(typeof body.type, 'string');
  assert.equal(typeof body.title, 'string');
  assert.equal(typeof body.detail, 'string');
  assert.equal(body.stack, undefined);
}

describe('HTTP API v1', () => {
  let jobId: string;
  let events: ReamEvent[];

  test('POST /v1/jobs takes multipart files, answers 202 with Location; SSE follows to job.completed gaplessly', async () => {
    const { response, job } = await submit(
      form([['a.pdf', small], ['b.pdf', other], ['empty.pdf', new Uint8Array()]], { pipeline: 'extract', priority: 'high', options: '{"chunkPages":2}' }),
    );
    assert.equal(response.status, 202);
    assert.equal(response.headers.get('location'), `/v1/jobs/${job.id}`);
    assert.equal(response.headers.get('retry-after'), '1');
    assert.equal(job.priority, 'high');
    assert.equal(job.pipeline, 'extract');
    assert.equal(job.counts.documents.total, 3);
    jobId = job.id;

    events = await readSse(`${server.url}/v1/jobs/${jobId}/events`);
    assert.deepEqual(events.map((e) => e.seq), events.map((_, i) => i + 1), 'seq is gapless from 1');
    assert.equal(events.at(-1)?.type, 'job.completed');
    assert.equal(events[0]?.type, 'job.queued');
    assert.equal(events[0]?.progress.documentsTotal, 3, 'job.queued counts the documents it was submitted with');
    assert.equal(events[1]?.type, 'job.started');
  });

  test('SSE resumes after Last-Event-ID (and ?after=) with exactly the later events', async () => {
    const resumed = await readSse(`${server.url}/v1/jobs/${jobId}/events`, { 'last-event-id': '3' });
    assert.deepEqual(resumed.map((e) => e.seq), events.slice(3).map((e) => e.seq));
    assert.equal(resumed[0]?.seq, 4);
    const viaQuery = await readSse(`${server.url}/v1/jobs/${jobId}/events?after=${events.length - 1}`);
    assert.deepEqual(viaQuery.map((e) => e.seq), [events.length]);
    // As an EventSource polyfill resumes (a query parameter, where the header would need a preflight).
    const viaPolyfill = await readSse(`${server.url}/v1/jobs/${jobId}/events?lastEventId=${events.length - 1}`);
    assert.deepEqual(viaPolyfill.map((e) => e.seq), [events.length]);
  });

  test('SSE resumed at or past the last event of an ended job ends: at once with 204 once its end has settled', async () => {
    // Within the grace after the job's end, the stream opens and closes by itself once the grace is over.
    const job = await ream.getJob(jobId);
    const endedAgo = Date.now() - (job?.finishedAt ?? 0);
    if (endedAgo < END_EVENT_GRACE_MS) {
      const early = await fetch(`${server.url}/v1/jobs/${jobId}/events`, { headers: { 'last-event-id': String(events.length) }, signal: AbortSignal.timeout(30_000) });
      // The grace may be over by the time the server looks (a loaded machine: this test's check
      // and the server's were 500 ms apart or more): then it answers 204 at once.
      if (early.status !== 204) {
        assert.equal(early.status, 200);
        assert.doesNotMatch(await early.text(), /^data: /m, 'nothing to send, and the stream ended');
      }
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, END_EVENT_GRACE_MS - (Date.now() - (job?.finishedAt ?? 0))) + 50));
    }
    // Before the fix these streams sent heartbeats forever. A 204 tells an EventSource not to reconnect.
    for (const after of [String(events.length), String(events.length + 100)]) {
      const response = await fetch(`${server.url}/v1/jobs/${jobId}/events`, { headers: { 'last-event-id': after }, signal: AbortSignal.timeout(30_000) });
      assert.equal(response.status, 204, `after ${after}`);
    }
    // Numbers only as digits: `1e2` is not read as 100.
    await assertProblem(await fetch(`${server.url}/v1/jobs/${jobId}/events?after=1e2`), 400, 'validation_failed');
  });

  test('GET /v1/jobs/:id shows the finished job with page counts', async () => {
    const response = await fetch(`${server.url}/v1/jobs/${jobId}`);
    assert.equal(response.status, 200);
    const job = (await response.json()) as JobView;
    assert.equal(job.status, 'partially_succeeded');
    assert.equal(job.progress.percent, 100);
    assert.equal(job.progress.pagesTotal, 5);
    assert.equal(job.progress.pagesDone, 5);
    assert.equal(job.progress.documentsDone, 3);
    assert.deepEqual(job.counts.documents, { total: 3, succeeded: 2, partiallySucceeded: 0, failed: 1, cancelled: 0 });
    assert.equal(job.counts.chunks.total, 3);
    assert.equal(job.counts.chunks.succeeded, 3);
    assert.ok(job.finishedAt !== null && job.startedAt !== null);
  });

  test('GET /v1/jobs/:id/results: one item per file, in input order; the empty one says empty_file', async () => {
    const response = await fetch(`${server.url}/v1/jobs/${jobId}/results`);
    assert.equal(response.status, 200);
    const { items } = (await response.json()) as { items: DocumentOutput[] };
    assert.deepEqual(items.map((i) => i.source), ['a.pdf', 'b.pdf', 'empty.pdf']);
    assert.equal(items[0]?.pageCount, 3);
    assert.match(items[0]?.pages[2]?.text ?? '', /A page 3 of 3/);
    assert.equal(items[2]?.status, 'failed');
    assert.equal(items[2]?.error?.code, 'empty_file');
  });

  test('NDJSON results stream while the job runs and end with it', async () => {
    const big = await makePdf({ pages: numberedPages('N', 40) });
    const { job } = await submit(form([['n1.pdf', big], ['n2.pdf', small]], { options: '{"chunkPages":5}' }));
    const response = await fetch(`${server.url}/v1/jobs/${job.id}/results`, {
      headers: { accept: 'application/x-ndjson' },
      signal: AbortSignal.timeout(120_000),
    });
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/x-ndjson/);
    const lines = (await response.text()).trim().split('\n').map((l) => JSON.parse(l) as DocumentOutput);
    assert.deepEqual(lines.map((l) => l.source), ['n1.pdf', 'n2.pdf']);
    assert.equal(lines[0]?.pageCount, 40);
    const status = (await (await fetch(`${server.url}/v1/jobs/${job.id}`)).json()) as JobView;
    assert.equal(status.status, 'succeeded');
  });

  test('POST /v1/jobs/:id/cancel mid-job → cancelled', async () => {
    const big = await makePdf({ pages: numberedPages('C', 400) });
    const { job } = await submit(form([['big.pdf', big]], { options: '{"chunkPages":1}' }));
    const cancel = await fetch(`${server.url}/v1/jobs/${job.id}/cancel`, { method: 'POST' });
    assert.equal(cancel.status, 200);
    const cancelled = (await cancel.json()) as JobView;
    assert.equal(cancelled.status, 'cancelled');
    const events = await readSse(`${server.url}/v1/jobs/${job.id}/events`);
    assert.equal(events.at(-1)?.type, 'job.cancelled');
    const status = (await (await fetch(`${server.url}/v1/jobs/${job.id}`)).json()) as JobView;
    assert.equal(status.status, 'cancelled');
    assert.ok(status.progress.pagesDone < 400, 'stopped before the end');
  });

  test('Idempotency-Key: a repeat returns the same job (200)', async () => {
    const headers = { 'idempotency-key': 'same-key-1' };
    const first = await submit(form([['k.pdf', other]]), headers);
    assert.equal(first.response.status, 202);
    const second = await submit(form([['k.pdf', other]]), headers);
    assert.equal(second.response.status, 200);
    assert.equal(second.job.id, first.job.id);
    assert.equal(second.response.headers.get('location'), `/v1/jobs/${first.job.id}`);
    // The same options written in another order are the same request.
    const ordered = { 'idempotency-key': 'same-key-2' };
    const a = await submit(form([['k.pdf', other]], { options: '{"chunkPages":7,"maxPages":50}' }), ordered);
    const b = await submit(form([['k.pdf', other]], { options: '{"maxPages":50,"chunkPages":7}' }), ordered);
    assert.deepEqual([a.response.status, b.response.status, b.job.id], [202, 200, a.job.id]);
  });

  test('Idempotency-Key sent ten times at once: one job, made once (202), the nine others answered as repeats (200)', async () => {
    const headers = { 'idempotency-key': 'at-once-1' };
    const answers = await Promise.all(Array.from({ length: 10 }, () => submit(form([['k.pdf', other]]), headers)));
    assert.deepEqual(answers.map((a) => a.response.status).sort(), [200, 200, 200, 200, 200, 200, 200, 200, 200, 202]);
    assert.equal(new Set(answers.map((a) => a.job.id)).size, 1, 'one job');
    const job = (await (await fetch(`${server.url}/v1/jobs/${answers[0]?.job.id ?? ''}`)).json()) as JobView;
    assert.equal(job.counts.documents.total, 1, 'its file attached once');
  });

  test('Idempotency-Key reused for another request: 422 idempotency_conflict, naming what differs, no job made', async () => {
    const headers = { 'idempotency-key': 'reused-key-1' };
    const first = await submit(form([['k.pdf', other]], { options: '{"chunkPages":7}' }), headers);
    assert.equal(first.response.status, 202);
    const before = ((await (await fetch(`${server.url}/v1/jobs?limit=100`)).json()) as { items: JobView[] }).items.length;
    const changed = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body: form([['k.pdf', other]], { options: '{"chunkPages":8}', priority: 'high' }), headers });
    assert.equal(changed.status, 422);
    const problem = (await changed.json()) as { code: string; detail: string; details?: { differing: string[] } };
    assert.equal(problem.code, 'idempotency_conflict');
    assert.deepEqual(problem.details?.differing, ['options', 'priority']);
    assert.match(problem.detail, new RegExp(first.job.id));
    // JSON bodies are held to the same rule.
    const json = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ options: { chunkPages: 9 }, documents: ['doc_never_read'] }) });
    assert.equal(json.status, 422, await json.clone().text());
    const after = ((await (await fetch(`${server.url}/v1/jobs?limit=100`)).json()) as { items: JobView[] }).items.length;
    assert.equal(after, before, 'no job made by a refused repeat');

    // Over stored documents: the same key for another batch is another request; the same batch (in any order) a repeat.
    const store = async (name: string, text: string): Promise<string> => {
      const body = new FormData();
      body.append('file', new Blob([text], { type: 'text/plain' }), name);
      return ((await (await fetch(`${server.url}/v1/documents`, { method: 'POST', body })).json()) as { items: Array<{ id: string }> }).items[0]?.id ?? '';
    };
    const [d1, d2, d3] = [await store('one.txt', 'first batch one'), await store('two.txt', 'first batch two'), await store('three.txt', 'second batch')];
    const batch = { ...headers, 'idempotency-key': 'batch-key', 'content-type': 'application/json' };
    assert.equal((await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: batch, body: JSON.stringify({ documents: [d1, d2] }) })).status, 202);
    assert.equal((await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: batch, body: JSON.stringify({ documents: [d2, d1] }) })).status, 200, 'the same batch: a repeat');
    const another = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: batch, body: JSON.stringify({ documents: [d3] }) });
    assert.equal(another.status, 422);
    assert.deepEqual(((await another.json()) as { details?: { differing: string[] } }).details?.differing, ['documents']);
  });

  test('GET /v1/jobs lists jobs with a cursor', async () => {
    const page1 = (await (await fetch(`${server.url}/v1/jobs?limit=2`)).json()) as { items: JobView[]; nextCursor: string | null };
    assert.equal(page1.items.length, 2);
    assert.ok(page1.nextCursor);
    const page2 = (await (await fetch(`${server.url}/v1/jobs?limit=2&cursor=${encodeURIComponent(page1.nextCursor)}`)).json()) as { items: JobView[] };
    assert.ok(page2.items.length >= 1);
    const ids = new Set([...page1.items, ...page2.items].map((j) => j.id));
    assert.equal(ids.size, page1.items.length + page2.items.length, 'no job on two pages');
    const cancelled = (await (await fetch(`${server.url}/v1/jobs?status=cancelled`)).json()) as { items: JobView[] };
    assert.ok(cancelled.items.length >= 1 && cancelled.items.every((j) => j.status === 'cancelled'));
    await assertProblem(await fetch(`${server.url}/v1/jobs?status=bogus`), 400, 'validation_failed');
  });

  test('errors are problem+json: unknown ids 404, bad options 400, bad JSON body 400', async () => {
    await assertProblem(await fetch(`${server.url}/v1/jobs/job_nope`), 404, 'not_found');
    await assertProblem(await fetch(`${server.url}/v1/jobs/job_nope/events`), 404, 'not_found');
    await assertProblem(await fetch(`${server.url}/v1/jobs/job_nope/results`), 404, 'not_found');
    await assertProblem(await fetch(`${server.url}/v1/jobs/job_nope/cancel`, { method: 'POST' }), 404, 'not_found');
    await assertProblem(await fetch(`${server.url}/v1/nowhere`), 404, 'not_found');
    await assertProblem(await fetch(`${server.url}/v1/jobs`, { method: 'POST', body: form([['x.pdf', small]], { options: '{not json' }) }), 400, 'validation_failed');
    await assertProblem(await fetch(`${server.url}/v1/jobs`, { method: 'POST', body: form([['x.pdf', small]], { options: '{"chunkPages":-1}' }) }), 400, 'validation_failed');
    const nul = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body: form([['x.pdf', small]], { options: '{"template":"<p>a\\u0000b</p>"}' }) });
    assert.match(((await nul.clone().json()) as { detail: string }).detail, /NUL/, 'a NUL in the options is refused as such');
    await assertProblem(nul, 400, 'validation_failed');
    await assertProblem(await fetch(`${server.url}/v1/jobs`, { method: 'POST', body: form([['x.pdf', small]], { priority: 'urgent' }) }), 400, 'validation_failed');
    await assertProblem(await fetch(`${server.url}/v1/jobs`, { method: 'POST', body: form([]) }), 400, 'validation_failed');
    await assertProblem(
      await fetch(`${server.url}/v1/jobs/job_nope/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{bad' }),
      400,
      'validation_failed',
    );
  });

  test('OCR options over HTTP: ocr "never" makes a scan a partial success with needs_ocr; bad ones are 400', async () => {
    const scan = await makeScannedPdf([['A scanned page']]);
    const { response, job } = await submit(form([['scan.pdf', scan]], { options: '{"ocr":"never","ocrLanguages":["eng","fra"]}' }));
    assert.equal(response.status, 202);
    assert.equal((await ream.wait(job.id)).status, 'partially_succeeded');
    const { items } = (await (await fetch(`${server.url}/v1/jobs/${job.id}/results`)).json()) as { items: DocumentOutput[] };
    assert.equal(items[0]?.status, 'partially_succeeded');
    assert.deepEqual(items[0]?.warnings?.map((w) => [w.page, w.code]), [[1, 'needs_ocr']]);
    assert.deepEqual(items[0]?.pages.map((p) => [p.source, p.text]), [['text', '']]);
    for (const options of ['{"ocr":"sometimes"}', '{"ocrDpi":2400}', '{"ocrLanguages":["xyz"]}']) {
      await assertProblem(await fetch(`${server.url}/v1/jobs`, { method: 'POST', body: form([['x.pdf', small]], { options }) }), 400, 'validation_failed');
    }
  });

  test('health and readiness', async () => {
    assert.deepEqual(await (await fetch(`${server.url}/healthz`)).json(), { status: 'ok' });
    assert.deepEqual(await (await fetch(`${server.url}/readyz`)).json(), { status: 'ready', recovery: 'done' });
  });

  test('refuses to start on a non-loopback host', async () => {
    await assert.rejects(startServer({ ream, host: '0.0.0.0', port: 0 }), (error: unknown) => {
      assert.ok(error instanceof ReamError);
      assert.equal(error.code, 'validation_failed');
      assert.match(error.message, /auth is off/);
      return true;
    });
  });
});
