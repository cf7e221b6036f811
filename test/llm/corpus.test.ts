// The llm pipeline over real PDFs of the shared corpus, by each way in: `ream run`, the HTTP API and
// the library. The model is the OpenAI-compatible test server, answering each chunk with the first
// line of the first page it is shown: every field must come back with a page of its document and a
// quote found on that page, bad files fail with their stable code and cost no call, and the API
// key shows up nowhere.
import assert from 'node:assert/strict';
import { openAsBlob } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { DocumentOutput } from '../../src/pipeline/types.ts';
import { createReam } from '../../src/runtime/create-ream.ts';
import { startServer } from '../../src/server/app.ts';
import type { JobView } from '../../src/server/views.ts';
import { corpusDir, hasCorpus, readManifest, requireCorpus, type CorpusEntry } from '../support/env.ts';
import { pagesIn, startFakeOpenAi, userText, type FakeOpenAi } from '../support/openai-server.ts';
import { runReam } from '../support/run-ream.ts';

const SECRET = 'sk-corpus-SECRET-5150';
const MODEL = 'fake-corpus';
const CHUNK_PAGES = 20;
/** Text PDFs of 4 to 44 pages (the last one in three chunks); a .csv that is no text and an empty file, made here. */
const GOOD = ['publishers-doc__example__example_llncs_crop.pdf', 'npm-pdf-merger-js__UDHR.pdf', 'latex-base-doc__amsmath__amsldoc.pdf'];
const BAD = { 'binary.csv': 'invalid_sheet', 'empty.pdf': 'empty_file' } as const;
/** The bad files are made here, not taken from the corpus. */
const MADE = new Set(Object.keys(BAD));
const schema = { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] };

/** The first non-empty line of the first page in the request, with that page as its source. */
function firstLine(request: Parameters<Parameters<typeof startFakeOpenAi>[0]>[0]): string {
  const [page] = pagesIn(request);
  const text = userText(request).split(`<<<page ${page}>>>`)[1]?.split('<<<page')[0] ?? '';
  const line = text.split('\n').map((l) => l.trim()).find((l) => l.length > 0) ?? '';
  return JSON.stringify({ values: { title: line }, sources: { title: { pages: [page], quote: line } } });
}

let model: FakeOpenAi;
let dir: string;
let entries: Map<string, CorpusEntry>;

before(async () => {
  model = await startFakeOpenAi((request) => ({ content: firstLine(request), promptTokens: 100, completionTokens: 10 }));
  dir = await mkdtemp(join(tmpdir(), 'ream-llm-corpus-'));
  await writeFile(join(dir, 'fields.json'), JSON.stringify(schema));
  await writeFile(join(dir, 'empty.pdf'), '');
  await writeFile(join(dir, 'binary.csv'), Buffer.from([0x00, 0xff, 0xfe, 0x01, 0x80, 0x81]));
  entries = new Map(hasCorpus() ? (await readManifest()).map((entry) => [entry.name, entry]) : []);
});
after(async () => {
  await model.close();
  await rm(dir, { recursive: true, force: true });
});

/** Calls the good files need: one per chunk (extract mode combines chunk answers without a call). */
function expectedCalls(): number {
  return GOOD.reduce((sum, name) => sum + Math.ceil((entries.get(name)?.pages ?? 0) / CHUNK_PAGES), 0);
}

/** Every good file succeeded with a title quoted from a page of its own; every bad one failed with its code. */
function checkOutputs(outputs: ReadonlyArray<Pick<DocumentOutput, 'status' | 'pageCount' | 'fields' | 'pages' | 'error'> & { name: string }>): void {
  for (const name of GOOD) {
    const output = outputs.find((o) => o.name === name);
    assert.ok(output, `a result for ${name}`);
    assert.equal(output.status, 'succeeded', `${name}: ${output.error?.code ?? ''} ${output.error?.message ?? ''}`);
    assert.equal(output.pageCount, entries.get(name)?.pages);
    const [title] = output.fields.title ?? [];
    assert.ok(title && title.value.length > 0, `${name} has a title`);
    assert.ok(title.page >= 1 && title.page <= (output.pageCount ?? 0), `${name}: page ${title.page} is one of its pages`);
    assert.ok(title.quote !== undefined && title.quote.length > 0, `${name}: the title carries its quote`);
    const pageText = output.pages.find((p) => p.page === title.page)?.text ?? '';
    assert.ok(pageText.includes(title.quote), `${name}: "${title.quote}" is on page ${title.page}`);
  }
  for (const [name, code] of Object.entries(BAD)) {
    const output = outputs.find((o) => o.name === name);
    assert.equal(output?.status, 'failed', name);
    assert.equal(output.error?.code, code, name);
  }
}

describe('the llm pipeline over the shared corpus', () => {
  const files = (): string[] => [...GOOD, ...Object.keys(BAD)].map((name) => (MADE.has(name) ? join(dir, name) : join(corpusDir, name)));

  test('ream run --llm-schema: fields with their page and quote, one call per chunk, bad files cost none', { timeout: 600_000 }, async (t) => {
    if (!requireCorpus(t)) return;
    model.requests.length = 0;
    const out = join(dir, 'cli.jsonl');
    const run = await runReam(['run', ...files(), '--llm-schema', join(dir, 'fields.json'), '--llm-prompt', 'The title of the document', '-o', out, '--data-dir', join(dir, 'cli-data'), '--progress', 'none'], {
      env: { REAM_LLM_BASE_URL: model.baseURL, REAM_LLM_API_KEY: SECRET, REAM_LLM_MODEL: MODEL },
    });
    assert.equal(run.code, 1, `the bad files fail, so exit 1: ${run.stderr}`);
    const written = await readFile(out, 'utf8');
    const lines = written.trim().split('\n').map((line) => JSON.parse(line) as DocumentOutput & { path: string });
    checkOutputs(lines.map((line) => ({ ...line, name: line.path.split('/').at(-1) ?? '' })));
    assert.equal(model.requests.length, expectedCalls());
    assert.doesNotMatch(run.stdout + run.stderr + written, /SECRET/);
  });

  test('POST /v1/jobs (multipart, pipeline "llm") and the library give the same fields', { timeout: 600_000 }, async (t) => {
    if (!requireCorpus(t)) return;
    const ream = await createReam({ dataDir: join(dir, 'api-data'), threads: 2, llm: { baseURL: model.baseURL, apiKey: SECRET, model: MODEL } });
    const server = await startServer({ ream, host: '127.0.0.1', port: 0 });
    try {
      model.requests.length = 0;
      const body = new FormData();
      body.append('pipeline', 'llm');
      body.append('options', JSON.stringify({ schema, prompt: 'The title of the document' }));
      for (const path of files()) body.append('file', await openAsBlob(path), path.split('/').at(-1));
      const response = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body });
      assert.equal(response.status, 202, await response.clone().text());
      const job = (await response.json()) as JobView;
      await ream.wait(job.id);
      const overHttp = (await (await fetch(`${server.url}/v1/jobs/${job.id}/results`, { headers: { accept: 'application/x-ndjson' } })).text())
        .trim().split('\n').map((line) => JSON.parse(line) as DocumentOutput);
      checkOutputs(overHttp.map((o) => ({ ...o, name: o.source })));
      assert.equal(model.requests.length, expectedCalls());
      const view = (await (await fetch(`${server.url}/v1/jobs/${job.id}`)).json()) as JobView;
      assert.equal(view.usage?.calls, expectedCalls());

      // The library, same deployment: the same files again are answered from the response cache.
      const again = await ream.submit({ pipeline: 'llm', options: { schema, prompt: 'The title of the document' }, files: files() });
      await ream.wait(again.id);
      const viaLibrary = await Array.fromAsync(ream.results(again.id));
      checkOutputs(viaLibrary.map((o) => ({ ...o, name: o.source.split('/').at(-1) ?? '' })));
      assert.equal(model.requests.length, expectedCalls(), 'no new call: every chunk came from the cache');
      assert.doesNotMatch(JSON.stringify([overHttp, view, viaLibrary]), /SECRET/);
    } finally {
      await server.close();
      await ream.close();
    }
  });
});
