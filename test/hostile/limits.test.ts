// A tenant may not lift the server's limits: `ream serve` (a real process, auth on) with
// lowered ceilings, driven over 127.0.0.1 with a tenant's API key and an admin's.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { createReam } from '../../src/runtime/create-ream.ts';
import type { JobView } from '../../src/server/views.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { repoRoot } from '../support/env.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { startServeProcess, type ServeProcess } from '../support/serve-process.ts';

const run = promisify(execFile);

let dir: string;
let server: ServeProcess;
let tenantKey: string;
let adminKey: string;
let pdf: Uint8Array;

async function keysCreate(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [join(repoRoot, 'bin/ream.js'), 'keys', 'create', ...args, '--data-dir', join(dir, 'data')], {
    env: { ...process.env, REAM_FROM_SOURCE: '1' },
  });
  return stdout.trim();
}

function post(path: string, key: string, body: FormData | object): Promise<Response> {
  const json = !(body instanceof FormData);
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, ...(json ? { 'content-type': 'application/json' } : {}) },
    body: json ? JSON.stringify(body) : body,
  });
}

function form(fields: Record<string, string>, file: Uint8Array = pdf): FormData {
  const body = new FormData();
  for (const [name, value] of Object.entries(fields)) body.append(name, value);
  body.append('file', new Blob([file], { type: 'application/pdf' }), 'a.pdf');
  return body;
}

async function refused(response: Response, status: number, code: string, detail?: RegExp): Promise<void> {
  const body = (await response.json()) as { code?: string; detail?: string };
  assert.equal(response.status, status, body.detail);
  assert.equal(body.code, code);
  if (detail) assert.match(body.detail ?? '', detail);
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-limits-'));
  pdf = await makePdf({ pages: numberedPages('L', 3) });
  tenantKey = await keysCreate('--tenant', 'tenant-a');
  adminKey = await keysCreate('--tenant', 'ops', '--admin');
  server = await startServeProcess(['--auth', '--threads', '1', '--data-dir', join(dir, 'data'), '--max-pages', '20', '--max-rows', '50', '--max-size', '1', '--min-chunk-pages', '2']);
});

after(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

void describe('job limits of ream serve', () => {
  void test('options over a ceiling are refused at submit, multipart and JSON, naming the limit and its flag', async () => {
    await refused(await post('/v1/jobs', tenantKey, form({ options: '{"maxPages":2000000000}' })), 400, 'validation_failed',
      /^options\.maxPages 2000000000 is over this server's limit of 20 \(--max-pages\)$/);
    await refused(await post('/v1/jobs', tenantKey, form({ options: '{"maxBytes":1099511627776}' })), 400, 'validation_failed',
      /options\.maxBytes 1099511627776 is over this server's limit of 1048576 \(--max-size\)/);
    await refused(await post('/v1/jobs', tenantKey, form({ options: '{"chunkPages":1}' })), 400, 'validation_failed',
      /options\.chunkPages 1 is under this server's minimum of 2 \(--min-chunk-pages\)/);
    // JSON: refused before the ids are even looked up, with the same words.
    await refused(await post('/v1/jobs', tenantKey, { documents: ['doc_x'], options: { maxPages: 2000000000 } }), 400, 'validation_failed',
      /options\.maxPages 2000000000 is over this server's limit of 20 \(--max-pages\)/);
    // Within the limits: accepted, and read.
    const ok = await post('/v1/jobs', tenantKey, form({ options: '{"maxPages":20,"chunkPages":2}', priority: 'high' }));
    assert.equal(ok.status, 202);
    const job = (await ok.json()) as JobView;
    const client = new ReamClient({ baseUrl: server.url, apiKey: tenantKey });
    assert.equal((await client.wait(job.id, { signal: AbortSignal.timeout(60_000) })).status, 'succeeded');
  });

  void test('unknown and reserved keys inside options are refused like unknown fields', async () => {
    await refused(await post('/v1/jobs', tenantKey, form({ options: '{"maxpages":5}' })), 400, 'validation_failed', /unknown option "maxpages"/);
    await refused(await post('/v1/jobs', tenantKey, { documents: ['doc_x'], options: { chunkPages: 2, extra: true } }), 400, 'validation_failed', /unknown option "extra"/);
    await refused(await post('/v1/jobs', tenantKey, form({ options: '{"_ream":{"retry":9}}' })), 400, 'validation_failed', /"_ream" is reserved/);
  });

  void test('a lowered ceiling is also the limit of jobs that do not set the option', async () => {
    const long = await makePdf({ pages: numberedPages('M', 25) });
    const response = await post('/v1/jobs', tenantKey, form({}, long));
    assert.equal(response.status, 202);
    const job = (await response.json()) as JobView & { options: Record<string, unknown> };
    assert.equal(job.options.maxPages, 20, 'the ceiling is written into the job');
    const client = new ReamClient({ baseUrl: server.url, apiKey: tenantKey });
    assert.equal((await client.wait(job.id, { signal: AbortSignal.timeout(60_000) })).status, 'failed');
    const [result] = await client.results(job.id);
    assert.equal(result?.error?.code, 'too_many_pages');
  });

  void test('a rows job is held to --max-rows, not --max-pages: a table may be longer than a document', async () => {
    const table = (rows: number, options?: string): FormData => {
      const body = new FormData();
      body.append('pipeline', 'rows');
      if (options !== undefined) body.append('options', options);
      const lines = ['id,name', ...Array.from({ length: rows }, (_, i) => `${i + 1},row ${i + 1}`)];
      body.append('file', new Blob([`${lines.join('\n')}\n`], { type: 'text/csv' }), 'rows.csv');
      return body;
    };
    const client = new ReamClient({ baseUrl: server.url, apiKey: tenantKey });
    const accepted = await post('/v1/jobs', tenantKey, table(30));
    assert.equal(accepted.status, 202, await accepted.clone().text());
    const job = (await accepted.json()) as JobView & { options: Record<string, unknown> };
    assert.equal(job.options.maxPages, 50, 'the row ceiling is written into the job');
    assert.equal((await client.wait(job.id, { signal: AbortSignal.timeout(60_000) })).status, 'succeeded', '30 rows pass a 20-page server');
    const long = (await (await post('/v1/jobs', tenantKey, table(60))).json()) as JobView;
    const [result] = (await client.wait(long.id, { signal: AbortSignal.timeout(60_000) }), await client.results(long.id));
    assert.equal(result?.error?.code, 'too_many_pages');
    await refused(await post('/v1/jobs', tenantKey, table(5, '{"maxPages":51}')), 400, 'validation_failed', /options\.maxPages 51 is over this server's limit of 50 \(--max-rows\)/);
  });

  void test('critical priority is for admins only (--max-priority, default high)', async () => {
    await refused(await post('/v1/jobs', tenantKey, form({ priority: 'critical' })), 400, 'validation_failed',
      /priority critical is over the highest this server allows a non-admin: high \(--max-priority\)/);
    await refused(await post('/v1/jobs', tenantKey, { documents: ['doc_x'], priority: 'critical' }), 400, 'validation_failed', /--max-priority/);
    const admin = await post('/v1/jobs', adminKey, form({ priority: 'critical' }));
    assert.equal(admin.status, 202, await admin.clone().text());
    assert.equal(((await admin.json()) as JobView).priority, 'critical');
  });

  // Last: the server answers 413 before it has read the whole upload, which leaves that
  // connection unusable for a request after it.
  void test('a file over --max-size is refused at upload', async () => {
    const big = new Uint8Array(1536 * 1024);
    big.set(new TextEncoder().encode('%PDF-1.7\n'));
    await refused(await post('/v1/jobs', tenantKey, form({}, big)), 413, 'file_too_large');
  });
});

void describe('job limits of the library', () => {
  void test('none by default; when set, submit refuses past them too', async () => {
    const ream = await createReam({ dataDir: join(dir, 'library'), threads: 1, jobLimits: { maxPages: 100, maxPriority: 10 } });
    try {
      await rejectsWithCode(ream.submit({ files: [], options: { maxPages: 101 } }), 'validation_failed', /options\.maxPages 101 is over this server's limit of 100 \(jobLimits\.maxPages\)/);
      await rejectsWithCode(ream.submit({ files: [], priority: 20 }), 'validation_failed', /jobLimits\.maxPriority/);
      await rejectsWithCode(ream.submit({ files: [], options: { maxPages: 1e300 } }), 'validation_failed', /positive integer/);
    } finally {
      await ream.close();
    }
  });
});
