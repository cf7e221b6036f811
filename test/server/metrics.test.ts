import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import type { JobView } from '../../src/server/views.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';

let dir: string;
let ream: Ream;
let server: RunningServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-metrics-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 2 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0 });
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

/** The value of one sample line, e.g. `ream_jobs{status="succeeded"}`. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('GET /metrics: Prometheus text with jobs, queue, pages, documents, HTTP durations and process metrics', async () => {
  const body = new FormData();
  body.append('options', '{"chunkPages":2}');
  const submittedPdf = await makePdf({ pages: numberedPages('M', 5) });
  body.append('file', new Blob([submittedPdf], { type: 'application/pdf' }), 'm.pdf');
  body.append('file', new Blob([new Uint8Array()], { type: 'application/pdf' }), 'empty.pdf');
  const submitted = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body });
  assert.equal(submitted.status, 202);
  const job = (await submitted.json()) as JobView;
  await ream.wait(job.id);
  assert.equal((await fetch(`${server.url}/v1/jobs/${job.id}`)).status, 200);
  assert.equal((await fetch(`${server.url}/v1/jobs/job_nope`)).status, 404);

  const pdf = await makePdf({ pages: numberedPages('U', 2) });
  const upload = new FormData();
  upload.append('file', new Blob([pdf], { type: 'application/pdf' }), 'u.pdf');
  assert.equal((await fetch(`${server.url}/v1/documents`, { method: 'POST', body: upload })).status, 201);

  const response = await fetch(`${server.url}/metrics`);
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await response.text();

  const finished = (sample(text, 'ream_jobs{status="succeeded"}') ?? 0) + (sample(text, 'ream_jobs{status="partially_succeeded"}') ?? 0);
  assert.equal(finished, 1, 'one finished job');
  assert.equal(sample(text, 'ream_jobs{status="running"}'), 0);
  assert.equal(sample(text, 'ream_pages_processed_total'), 5);
  assert.equal(sample(text, 'ream_chunks_processed_total{outcome="completed"}'), 3);
  assert.equal(sample(text, 'ream_documents_processed_total{outcome="completed"}'), 1);
  assert.equal(sample(text, 'ream_documents_processed_total{outcome="failed"}'), 1);
  assert.equal(sample(text, 'ream_document_duration_seconds_count{outcome="completed"}'), 1);
  assert.ok((sample(text, 'ream_queue_tasks{status="completed"}') ?? 0) >= 1);
  assert.equal(sample(text, 'ream_http_request_duration_seconds_count{method="GET",route="/v1/jobs/:id",status="200"}'), 1);
  assert.equal(sample(text, 'ream_http_request_duration_seconds_count{method="GET",route="/v1/jobs/:id",status="404"}'), 1);
  assert.equal(sample(text, 'ream_http_request_duration_seconds_count{method="POST",route="/v1/jobs",status="202"}'), 1);
  assert.equal(sample(text, 'ream_upload_bytes_total{via="documents"}'), pdf.byteLength);
  assert.equal(sample(text, 'ream_upload_bytes_total{via="jobs"}'), submittedPdf.byteLength, 'files sent with POST /v1/jobs count (the empty one adds 0)');
  assert.match(text, /^ream_workers\{state="running"\} 1$/m, 'the in-process worker is listed');
  assert.match(text, /^process_cpu_user_seconds_total /m);
  assert.match(text, /^nodejs_heap_size_used_bytes /m);
});
