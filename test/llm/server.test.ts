import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import type { JobView } from '../../src/server/views.ts';
import { makePdf } from '../support/make-pdf.ts';
import { startFakeOpenAi, type FakeOpenAi } from '../support/openai-server.ts';
import { runReam } from '../support/run-ream.ts';

const SECRET = 'sk-http-SECRET-9090';
let dir: string;
let ream: Ream;
let server: RunningServer;
let model: FakeOpenAi;

before(async () => {
  model = await startFakeOpenAi((request) => {
    const labels = request.body.messages[0]?.content.includes('Classify');
    return labels
      ? { content: JSON.stringify({ label: 'invoice', confidence: 0.9, pages: [1], quote: 'INVOICE 42' }), promptTokens: 40, completionTokens: 6 }
      : { content: JSON.stringify({ values: { number: '42' }, sources: { number: { pages: [1], quote: 'INVOICE 42' } } }), promptTokens: 50, completionTokens: 8 };
  });
  dir = await mkdtemp(join(tmpdir(), 'ream-llm-http-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, llm: { baseURL: model.baseURL, apiKey: SECRET, model: 'fake-http' } });
  server = await startServer({ ream, host: '127.0.0.1', port: 0 });
});
after(async () => {
  await server.close();
  await ream.close();
  await model.close();
  await rm(dir, { recursive: true, force: true });
});

async function submit(options: object): Promise<JobView> {
  const body = new FormData();
  body.append('pipeline', 'llm');
  body.append('options', JSON.stringify(options));
  body.append('file', new Blob([await makePdf({ pages: ['INVOICE 42', 'Thank you'] })], { type: 'application/pdf' }), 'invoice.pdf');
  const response = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body });
  assert.equal(response.status, 202, await response.clone().text());
  const job = (await response.json()) as JobView;
  await ream.wait(job.id);
  return job;
}

test('POST /v1/jobs with pipeline "llm": fields with pages and quotes in results, usage in the job status and /metrics', async () => {
  const job = await submit({ schema: { type: 'object', properties: { number: { type: 'string' } } }, prompt: 'The invoice number', model: 'fake-http' });
  const results = (await (await fetch(`${server.url}/v1/jobs/${job.id}/results`)).json()) as { results?: unknown[] } | unknown[];
  const text = JSON.stringify(results);
  assert.match(text, /"number":\[\{"value":"42","page":1,"pages":\[1\],"quote":"INVOICE 42"\}\]/);
  const status = (await (await fetch(`${server.url}/v1/jobs/${job.id}`)).json()) as JobView;
  assert.equal(status.status, 'succeeded');
  assert.deepEqual(status.usage, {
    promptTokens: 50, completionTokens: 8, totalTokens: 58, calls: 1, cachedCalls: 0,
    byModel: [{ model: 'fake-http', promptTokens: 50, completionTokens: 8, calls: 1, cachedCalls: 0 }],
  });
  const classified = await submit({ mode: 'classify', labels: ['invoice', 'contract'] });
  const classifiedResults = JSON.stringify(await (await fetch(`${server.url}/v1/jobs/${classified.id}/results`)).json());
  assert.match(classifiedResults, /"label":\[\{"value":"invoice","page":1/);

  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /ream_llm_tokens_total\{model="fake-http",kind="prompt"\} 90/);
  assert.match(metrics, /ream_llm_tokens_total\{model="fake-http",kind="completion"\} 14/);
  assert.match(metrics, /ream_llm_calls_total\{model="fake-http",outcome="called"\} 2/);
  const everything = JSON.stringify([status, results, classifiedResults, await (await fetch(`${server.url}/v1/jobs/${job.id}/events`, { headers: { accept: 'application/json' } })).text()]) + metrics;
  assert.doesNotMatch(everything, /SECRET/);
});

test('POST /v1/jobs refuses bad llm options with a problem, before any call', async () => {
  const before = model.requests.length;
  const response = await fetch(`${server.url}/v1/jobs`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ pipeline: 'llm', options: { mode: 'ask' }, documents: [] }),
  });
  assert.equal(response.status, 400);
  assert.equal(((await response.json()) as { code: string }).code, 'validation_failed');
  assert.equal(model.requests.length, before);
});

test('ream wait prints an ended job\'s status on stdout and its summary on stderr: documents, pages, tokens, and why its budget stopped it; exit 1 when stopped short', async () => {
  const { REAM_SERVER: _unused, ...env } = process.env;
  const wait = (id: string) => runReam(['wait', id, '--server', server.url], { cwd: dir, baseEnv: env });
  const answered = await submit({ schema: { type: 'object', properties: { number: { type: 'string' } } }, prompt: 'The number, again' });
  const done = await wait(answered.id);
  assert.equal(done.code, 0, done.stderr);
  assert.equal(done.stdout, 'succeeded\n', 'stdout is the status alone, for scripts');
  assert.deepEqual(done.stderr.trim().split('\n'), [
    'documents: 1 succeeded, 0 partially succeeded, 0 failed, 0 cancelled of 1',
    'pages: 2 of 2',
    'model: 58 tokens (50 prompt + 8 completion) in 1 call(s), 0 from the cache',
  ]);

  const stopped = await submit({ mode: 'summarize', maxTokens: 10 });
  const capped = await wait(stopped.id);
  assert.equal(capped.code, 1);
  assert.equal(capped.stdout, 'partially_succeeded\n');
  const lines = capped.stderr.trim().split('\n');
  assert.equal(lines[0], 'documents: 0 succeeded, 1 partially succeeded, 0 failed, 0 cancelled of 1');
  assert.match(lines.at(-1) ?? '', /^stopped: the job's token budget \(maxTokens 10\) stopped its model calls with 0 tokens used: .* \[budget_exceeded\]$/);
});
