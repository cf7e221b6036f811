import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { startCluster } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { writePdf } from '../support/make-pdf.ts';
import { pagesIn, startFakeOpenAi } from '../support/openai-server.ts';
import { runReam } from '../support/run-ream.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';

const missing = (await redisUnavailable()) ?? (await postgresUnavailable());
const SECRET = 'sk-cluster-SECRET-5151';

void test('distributed: two workers share the response cache and the usage ledger (PostgreSQL); the key stays in the processes', { timeout: 300_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const model = await startFakeOpenAi((request) => {
    const [page] = pagesIn(request);
    return { content: JSON.stringify({ values: { page: String(page) }, sources: { page: { pages: [page], quote: `page ${page}` } } }), promptTokens: 10, completionTokens: 1, delayMs: 200 };
  });
  const dir = await mkdtemp(join(tmpdir(), 'ream-llm-cluster-'));
  // Every process of the cluster inherits this environment.
  const saved = { ...process.env };
  Object.assign(process.env, { REAM_LLM_BASE_URL: model.baseURL, REAM_LLM_API_KEY: SECRET, REAM_LLM_MODEL: 'fake-cluster' });
  const cluster = await startCluster({ workers: 2, workerArgs: ['--concurrency', '3', '--threads', '1'] });
  process.env = saved;
  try {
    const pdf = join(dir, 'six.pdf');
    await writePdf(pdf, { pages: ['one', 'two', 'three', 'four', 'five', 'six'] });
    const client = new ReamClient({ baseUrl: cluster.server.url });
    const options = { schema: { type: 'object', properties: { page: { type: 'string' } } }, chunkPages: 1, overlapPages: 0 };
    const job = await client.submit({ files: [pdf], pipeline: 'llm', options });
    const done = await client.wait(job.id);
    assert.equal(done.status, 'succeeded', cluster.output());
    assert.equal(model.requests.length, 6);
    assert.deepEqual(done.usage?.byModel, [{ model: 'fake-cluster', promptTokens: 60, completionTokens: 6, calls: 6, cachedCalls: 0 }]);
    const [output] = await client.results(job.id);
    assert.equal(output?.fields.page?.[0]?.value, '1', 'the first page wins');

    // The same document in a new job: every answer from the shared cache, whichever worker runs it.
    const again = await client.wait((await client.submit({ files: [pdf], pipeline: 'llm', options })).id);
    assert.equal(model.requests.length, 6);
    assert.equal(again.usage?.cachedCalls, 6);
    assert.doesNotMatch(JSON.stringify([done, again, output]) + cluster.output(), /SECRET/);

    // A job whose token budget stops its calls ends with what was read, and says why at job level:
    // through the API and SDK (the job's error), and `ream status`.
    const other = join(dir, 'other.pdf');
    await writePdf(other, { pages: ['seven', 'eight', 'nine'] });
    const capped = await client.wait((await client.submit({ files: [other], pipeline: 'llm', options: { ...options, maxTokens: 50 } })).id);
    assert.equal(model.requests.length, 6, 'no call fits the budget');
    assert.equal(capped.status, 'partially_succeeded', cluster.output());
    assert.equal(capped.error?.code, 'budget_exceeded');
    assert.deepEqual(capped.error?.details, { maxTokens: 50, spentTokens: 0, reason: 'spent' });
    const [kept] = await client.results(capped.id);
    assert.deepEqual(kept?.failedPages.map((failure) => failure.code), ['budget_exceeded', 'budget_exceeded', 'budget_exceeded']);
    const status = await runReam(['status', capped.id, '--server', cluster.server.url]);
    assert.equal(status.code, 0, status.stderr);
    assert.equal((JSON.parse(status.stdout) as { error: { code: string } }).error.code, 'budget_exceeded');

    // A chunk too big for what the budget has left is asked about in parts that fit: pages 1–2
    // (about 188 of 190 tokens), then page 3 (about 183) no longer fits the 179 they left.
    const parts = join(dir, 'parts.pdf');
    await writePdf(parts, { pages: ['ten', 'eleven', 'twelve'] });
    const split = await client.wait((await client.submit({ files: [parts], pipeline: 'llm', options: { ...options, chunkPages: 3, maxTokens: 190, maxCompletionTokens: 20 } })).id);
    assert.deepEqual(model.requests.slice(6).map(pagesIn), [[1, 2]]);
    assert.equal(split.status, 'partially_succeeded', cluster.output());
    const [splitOutput] = await client.results(split.id);
    assert.deepEqual(splitOutput?.failedPages.map((failure) => [failure.page, failure.code]), [[3, 'budget_exceeded']]);
    assert.deepEqual(split.error?.details, { maxTokens: 190, spentTokens: 11, reason: 'spent' });
    // `ream wait` says why it stopped, and exits 1.
    const waited = await runReam(['wait', split.id, '--server', cluster.server.url]);
    assert.equal(waited.code, 1, waited.stderr);
    assert.equal(waited.stdout, 'partially_succeeded\n');
    assert.match(waited.stderr, /^model: 11 tokens .*\nstopped: the job's token budget \(maxTokens 190\) stopped its model calls with 11 tokens used: .*\[budget_exceeded\]$/m);
  } finally {
    await cluster.stop();
    await model.close();
    await rm(dir, { recursive: true, force: true });
  }
});
