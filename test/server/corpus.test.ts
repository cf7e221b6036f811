// The shared corpus (its transport sample, see `corpusSample`) through the HTTP service in ONE
// multipart job, files streamed from disk, plus bad inputs made here: every file gets its result,
// with the outcome `ream run` gives it (test/cli/run.test.ts), and the server still serves afterwards.
import assert from 'node:assert/strict';
import { openAsBlob } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ReamEvent } from '../../src/events/types.ts';
import type { DocumentOutput } from '../../src/pipeline/types.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import type { JobView } from '../../src/server/views.ts';
import { corpusDir, corpusSample, hasCorpus, readManifest, requireCorpus } from '../support/env.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';

/** The codes `ream run` may give a bad file: stable, documented, never an internal error. */
const STABLE = new Set(['invalid_pdf', 'encrypted_pdf', 'unsupported_type', 'invalid_sheet', 'empty_file', 'too_many_pages', 'timeout', 'resource_limit']);
/** A GIF header (1×1): an image ream does not read (PNG, JPEG, TIFF and WebP it reads by OCR). */
const GIF = Uint8Array.from([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 0, 1, 0, 0x80, 0, 0]);

let dir: string;
let ream: Ream | undefined;
let server: RunningServer | undefined;

before(async () => {
  if (!hasCorpus()) return;
  dir = await mkdtemp(join(tmpdir(), 'ream-server-corpus-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 2 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0 });
});
after(async () => {
  await server?.close();
  await ream?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Follows the job's SSE stream to its terminal event (the server then closes it). */
async function followToEnd(url: string): Promise<ReamEvent> {
  const response = await fetch(url, { signal: AbortSignal.timeout(840_000) });
  assert.equal(response.status, 200);
  const text = await response.text();
  const events = text
    .split('\n\n')
    .flatMap((block) => block.split('\n').filter((l) => l.startsWith('data: ')))
    .map((l) => JSON.parse(l.slice(6)) as ReamEvent);
  const last = events.at(-1);
  assert.ok(last, 'some events');
  return last;
}

/** Results as NDJSON, one parsed line per document, read as a stream. */
async function results(url: string): Promise<DocumentOutput[]> {
  const response = await fetch(url, { headers: { accept: 'application/x-ndjson' }, signal: AbortSignal.timeout(120_000) });
  assert.equal(response.status, 200);
  const out: DocumentOutput[] = [];
  let buffer = '';
  const decoder = new TextDecoder();
  if (!response.body) return out;
  for await (const chunk of response.body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let cut = buffer.indexOf('\n');
    while (cut >= 0) {
      const line = buffer.slice(0, cut).trim();
      buffer = buffer.slice(cut + 1);
      cut = buffer.indexOf('\n');
      if (line) {
        const item = JSON.parse(line) as DocumentOutput;
        out.push({ ...item, pages: [] }); // the text is not checked here: keep memory small
      }
    }
  }
  if (buffer.trim()) out.push(JSON.parse(buffer) as DocumentOutput);
  return out;
}

describe('HTTP service over the shared corpus (sample)', () => {
  test('one multipart job with every corpus file and generated bad ones: each gets the outcome ream run gives', { timeout: 900_000 }, async (t) => {
    if (!requireCorpus(t) || !server) return;
    const manifest = new Map((await readManifest()).map((e) => [e.name, e]));
    const names = await corpusSample();
    const whole = await makePdf({ pages: numberedPages('T', 6) });
    const generated: Array<[string, Uint8Array]> = [
      ['gen-empty.pdf', new Uint8Array()],
      ['gen-gif-named.pdf', GIF],
      ['gen-truncated.pdf', whole.subarray(0, Math.floor(whole.length * 0.4))],
    ];

    const body = new FormData();
    body.append('pipeline', 'extract');
    // No OCR: this test is about the transport, and OCR (seconds a page) has tests of its own
    // (test/formats/ocr*.test.ts). The scans must then say that they were not read.
    body.append('options', JSON.stringify({ ocr: 'never' }));
    // Files come from disk as file-backed Blobs: fetch streams them, nothing is read whole here.
    for (const name of names) body.append('file', await openAsBlob(join(corpusDir, name)), name);
    for (const [name, bytes] of generated) body.append('file', new Blob([bytes]), name);
    const submitted = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body, signal: AbortSignal.timeout(300_000) });
    assert.equal(submitted.status, 202, await submitted.clone().text());
    const job = (await submitted.json()) as JobView;
    assert.equal(job.counts.documents.total, names.length + generated.length);

    const last = await followToEnd(`${server.url}/v1/jobs/${job.id}/events`);
    assert.equal(last.type, 'job.completed', `the job ends completed (documents may fail), got ${last.type}`);

    const items = await results(`${server.url}/v1/jobs/${job.id}/results`);
    assert.deepEqual(
      items.map((i) => i.source),
      [...names, ...generated.map(([name]) => name)],
      'one result per file, in input order',
    );
    const bySource = new Map(items.map((i) => [i.source, i]));
    const said = (i: DocumentOutput): string => `${i.source}: ${i.status} ${i.error?.code ?? ''} ${i.error?.message ?? ''}`;

    for (const name of names) {
      const item = bySource.get(name);
      assert.ok(item, `a result for ${name}`);
      const entry = manifest.get(name);
      if (entry?.status === 'ok') {
        assert.notEqual(item.status, 'failed', said(item));
        assert.equal(item.pageCount, entry.pages, `${name} page count`);
        if (entry.tags.includes('needs-ocr')) {
          assert.equal(item.status, 'partially_succeeded', `${said(item)}: a scan not OCR'd is never a plain success`);
          assert.ok(item.warnings?.some((w) => w.code === 'needs_ocr'), `${name}: needs_ocr warnings`);
        }
      } else if (item.status === 'failed') {
        // Bad PDFs, the CSV, manifest.tsv and README.md: success is allowed (a repaired xref, an
        // owner-password-only file, a text file), a failure must carry a stable code.
        assert.ok(item.error && STABLE.has(item.error.code), `${said(item)}: a stable code`);
      }
      if (entry?.status === 'encrypted' && item.status === 'failed') assert.equal(item.error?.code, 'encrypted_pdf', said(item));
      if (entry?.status === 'malformed' && item.status === 'failed') assert.equal(item.error?.code, 'invalid_pdf', said(item));
      // The corpus's CSV is a document read as text (tables as sheets): its first line, a
      // summary, stands as the header, and its 178 rows (wider than that line) make one page.
      if (entry?.status === 'non-pdf') {
        assert.equal(item.status, 'succeeded', said(item));
        assert.equal(item.pageCount, 1);
      }
    }

    const code = (name: string): string | undefined => bySource.get(name)?.error?.code;
    assert.equal(code('gen-empty.pdf'), 'empty_file');
    assert.equal(code('gen-gif-named.pdf'), 'unsupported_type', 'the content decides: a GIF, whatever its name');
    assert.equal(code('gen-truncated.pdf'), 'invalid_pdf');
    for (const [name] of generated) assert.equal(bySource.get(name)?.status, 'failed', name);

    const view = (await (await fetch(`${server.url}/v1/jobs/${job.id}`)).json()) as JobView;
    assert.equal(view.counts.documents.total, items.length);
    assert.equal(view.progress.documentsDone, items.length);
    assert.equal(view.status, 'partially_succeeded');
  });

  test('afterwards the server still answers /healthz and runs a new small job', async (t) => {
    if (!requireCorpus(t) || !server) return;
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    const body = new FormData();
    body.append('file', new Blob([await makePdf({ pages: numberedPages('H', 2) })], { type: 'application/pdf' }), 'h.pdf');
    const submitted = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body });
    assert.equal(submitted.status, 202);
    const job = (await submitted.json()) as JobView;
    const last = await followToEnd(`${server.url}/v1/jobs/${job.id}/events`);
    assert.equal(last.type, 'job.completed');
    const [item] = await results(`${server.url}/v1/jobs/${job.id}/results`);
    assert.equal(item?.status, 'succeeded');
    assert.equal(item.pageCount, 2);
  });
});
