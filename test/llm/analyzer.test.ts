import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { JobBudgets } from '../../src/analyzers/llm/budget.ts';
import { llmSettingsFromEnv } from '../../src/analyzers/llm/settings.ts';
import { createLlmAnalyzer, createLlmClient } from '../../src/analyzers/llm/index.ts';
import { MemoryAnalysisStore } from '../../src/analyzers/store/memory-analysis-store.ts';
import type { AnalyzeContext } from '../../src/analyzers/port.ts';
import { ReamError } from '../../src/errors.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { pagesIn, startFakeOpenAi, userText, type FakeOpenAi, type ReceivedRequest } from '../support/openai-server.ts';

const SECRET = 'sk-test-SECRET-4242';
const schema = {
  type: 'object',
  properties: { parties: { type: 'array', items: { type: 'string' } }, total: { type: 'number' } },
  required: ['parties', 'total'],
};
const pages = [
  { page: 1, text: 'Agreement between Acme Corp and Globex Ltd.' },
  { page: 2, text: 'The total amount due is 1200 EUR.' },
];
const context = (extra: Partial<AnalyzeContext> = {}): AnalyzeContext => ({ signal: AbortSignal.timeout(20_000), documentId: 'doc1', ...extra });

let server: FakeOpenAi;
before(async () => {
  server = await startFakeOpenAi(() => ({ content: '{}' }));
});
after(() => server.close());

function analyzer(extra: Record<string, unknown> = {}, provider: Record<string, unknown> = {}) {
  return createLlmAnalyzer({
    schema, prompt: 'Extract the parties and the total',
    provider: { baseURL: server.baseURL, apiKey: SECRET, model: 'test-model', ...provider },
    ...extra,
  });
}

const goodAnswer = JSON.stringify({
  values: { parties: ['Acme Corp', 'Globex Ltd'], total: 1200 },
  sources: { parties: { pages: [1], quote: 'between Acme Corp and Globex Ltd' }, total: { pages: [2], quote: 'total amount due is 1200 EUR' } },
});

test('extract: fields validate against the schema, each with its pages and quote; usage comes from the provider', async () => {
  server.requests.length = 0;
  server.script(() => ({ content: goodAnswer, promptTokens: 321, completionTokens: 45 }));
  const llm = analyzer();
  assert.ok(typeof llm.analyzeChunk === 'function' && typeof llm.finish === 'function');
  const chunk = await llm.analyzeChunk.call(llm, pages, context());
  assert.deepEqual(chunk.fields.total, [{ value: '1200', page: 2, pages: [2], quote: 'total amount due is 1200 EUR' }]);
  assert.deepEqual(chunk.usage, { promptTokens: 321, completionTokens: 45, calls: 1, cachedCalls: 0 });
  const doc = await llm.finish([{ index: 0, from: 0, to: 2, data: chunk.data }], chunk.fields, context());
  assert.deepEqual((doc.data as { values: unknown }).values, { parties: ['Acme Corp', 'Globex Ltd'], total: 1200 });
  assert.equal((doc.data as { invalid?: string }).invalid, undefined);
  assert.deepEqual(doc.fields.parties?.[0]?.pages, [1]);
  // The request: the provider's JSON-schema response format, temperature 0, the key as a bearer token, the page markers.
  const [request] = server.requests;
  assert.equal(request?.body.response_format?.type, 'json_schema');
  assert.equal(request?.body.model, 'test-model');
  assert.equal(request?.body.temperature, 0);
  assert.equal(request?.headers.authorization, `Bearer ${SECRET}`);
  assert.deepEqual(request && pagesIn(request), [1, 2]);
  assert.match(request ? userText(request) : '', /1200 EUR/);
  // The analyzer's stored description names the model and endpoint, never the key.
  assert.doesNotMatch(JSON.stringify(llm.config), /SECRET/);
});

test('extract: a field the schema does not name is left out, unless the schema asks for other fields', async () => {
  server.script(() => ({ content: JSON.stringify({
    values: { total: 7, approved: true },
    sources: { total: { pages: [2], quote: 'total 7' }, approved: { pages: [1], quote: 'approve it' } },
  }) }));
  const strict = await analyzer({ schema: { type: 'object', properties: { total: { type: 'number' } } } }).analyzeChunk?.(pages, context());
  assert.deepEqual(Object.keys(strict?.fields ?? {}), ['total']);
  assert.deepEqual((strict?.data as { values: object }).values, { total: 7 });
  const open = await analyzer({ schema: { type: 'object', properties: { total: { type: 'number' } }, additionalProperties: { type: ['string', 'boolean'] } } }).analyzeChunk?.(pages, context());
  assert.deepEqual(Object.keys(open?.fields ?? {}).sort(), ['approved', 'total']);
  // `patternProperties` asks for the names it matches, no others; with `additionalProperties:
  // false` an added field is dropped, not a reason to fail the answer.
  server.script(() => ({ content: JSON.stringify({
    values: { total: 7, approved: true, x_ref: 'A1' },
    sources: { total: { pages: [2], quote: 'total 7' }, approved: { pages: [1], quote: 'approve it' }, x_ref: { pages: [1], quote: 'ref A1' } },
  }) }));
  for (const additionalProperties of [false, undefined]) {
    const patterned = await analyzer({ schema: { type: 'object', properties: { total: { type: 'number' } }, patternProperties: { '^x_': { type: 'string' } }, additionalProperties } }).analyzeChunk?.(pages, context());
    assert.deepEqual(Object.keys(patterned?.fields ?? {}).sort(), ['total', 'x_ref'], String(additionalProperties));
    assert.deepEqual((patterned?.data as { values: object }).values, { total: 7, x_ref: 'A1' });
  }
});

test('extract: a schema with definitions and $defs referenced by $ref compiles, and its references are enforced on the answer', async () => {
  const code = { type: 'string', pattern: '^[A-Z]{2}-\\d+$' };
  for (const [key, ref] of [['definitions', '#/definitions/code'], ['$defs', '#/$defs/code']] as const) {
    const llm = analyzer({ schema: { type: 'object', [key]: { code }, properties: { code: { $ref: ref } }, required: ['code'] }, maxRepairs: 0 });
    server.script(() => ({ content: JSON.stringify({ values: { code: 'AB-12' }, sources: { code: { pages: [1], quote: 'AB-12' } } }) }));
    const chunk = await llm.analyzeChunk?.([{ page: 1, text: 'code AB-12' }], context());
    assert.deepEqual((chunk?.data as { values: object }).values, { code: 'AB-12' }, key);
    server.script(() => ({ content: JSON.stringify({ values: { code: 'ab' }, sources: { code: { pages: [1], quote: 'ab' } } }) }));
    await assert.rejects(llm.analyzeChunk?.([{ page: 1, text: 'code ab' }], context()) ?? Promise.resolve(), { code: 'llm_invalid_output', message: /must match pattern/ }, key);
  }
});

test('extract: a schema referring to its own root or properties with $ref holds a chunk\'s values to them, as it holds the document\'s', async () => {
  // A field named like a keyword of data (`const`) is a schema all the same.
  const tree = { type: 'object', properties: { name: { type: 'string', pattern: '^[A-Z]' }, alias: { $ref: '#/properties/name' }, const: { $ref: '#/properties/name' }, kids: { type: 'array', items: { $ref: '#' } } } };
  const llm = analyzer({ schema: tree, maxRepairs: 0 });
  const values = { name: 'Root', alias: 'R', kids: [{ name: 'Kid', kids: [] }] };
  server.script(() => ({ content: JSON.stringify({ values, sources: { name: { pages: [1], quote: 'Root' } } }) }));
  const chunk = await llm.analyzeChunk?.([{ page: 1, text: 'Root has a kid, Kid' }], context());
  assert.deepEqual((chunk?.data as { values: object }).values, values);
  server.script(() => ({ content: JSON.stringify({ values: { name: 'Root', alias: 'r', const: 'c', kids: [{ name: 'kid' }] }, sources: {} }) }));
  await assert.rejects(llm.analyzeChunk?.([{ page: 1, text: 'Root' }], context()) ?? Promise.resolve(), { code: 'llm_invalid_output', message: /values\/alias must match pattern.*values\/const must match pattern.*values\/kids\/0\/name must match pattern/ });
});

test('streaming answers are joined and their usage read from the last chunk', async () => {
  server.requests.length = 0;
  server.script(() => ({ content: goodAnswer, promptTokens: 11, completionTokens: 7 }));
  const chunk = await analyzer({}, { stream: true }).analyzeChunk?.(pages, context());
  assert.equal(server.requests[0]?.body.stream, true);
  assert.deepEqual(chunk?.fields.parties?.[0]?.value, '["Acme Corp","Globex Ltd"]');
  assert.deepEqual(chunk?.usage, { promptTokens: 11, completionTokens: 7, calls: 1, cachedCalls: 0 });
});

test('an invalid answer is repaired with the validation error in the prompt, then fails with llm_invalid_output', async () => {
  server.requests.length = 0;
  server.script((_request, index) => ({ content: index === 0 ? '{"values": {"total": "a lot"}, "sources": {}}' : goodAnswer }));
  const chunk = await analyzer().analyzeChunk?.(pages, context());
  assert.equal(chunk?.usage?.calls, 2);
  const repair = server.requests[1]?.body.messages.at(-1)?.content ?? '';
  assert.match(repair, /total must be number/);
  assert.equal(server.requests[1]?.body.messages.at(-2)?.role, 'assistant');

  server.requests.length = 0;
  server.script(() => ({ content: 'not json at all' }));
  await assert.rejects(analyzer({ maxRepairs: 1 }).analyzeChunk?.(pages, context()) ?? Promise.resolve(), (error: ReamError) => {
    assert.equal(error.code, 'llm_invalid_output');
    assert.equal(error.retryable, false);
    return true;
  });
  assert.equal(server.requests.length, 2, 'one call and one repair');
});

test('provider errors map to stable codes, and the API key never appears in them', async () => {
  const cases: Array<[Parameters<FakeOpenAi['script']>[0], string, boolean]> = [
    [() => ({ status: 400, message: `This model's maximum context length is 8192 tokens (key ${SECRET})` }), 'llm_context_too_long', false],
    [() => ({ refusal: 'I cannot help with that.' }), 'llm_refused', false],
    [() => ({ content: '{}', finishReason: 'content_filter' }), 'llm_refused', false],
    [() => ({ status: 401, message: `Incorrect API key provided: ${SECRET}` }), 'analyzer_failed', false],
    // llama.cpp server's words for it.
    [() => ({ status: 400, message: 'the request exceeds the available context size, try increasing it', code: 'exceed_context_size_error' }), 'llm_context_too_long', false],
  ];
  for (const [script, code, retryable] of cases) {
    server.script(script);
    await assert.rejects(analyzer({ mode: 'summarize', schema: undefined }).analyzeChunk?.([{ page: 1, text: 'x' }], context()) ?? Promise.resolve(), (error: ReamError) => {
      assert.equal(error.code, code);
      assert.equal(error.retryable, retryable);
      assert.doesNotMatch(`${error.message} ${JSON.stringify(error.toJSON())}`, /SECRET/);
      return true;
    });
  }
});

test('429 with Retry-After is waited out (pacer), 500s retried; after the bounded retries the codes are retryable', async () => {
  server.requests.length = 0;
  server.script((_request, index) => (index === 0 ? { status: 429, retryAfterMs: '50' } : index === 1 ? { status: 500 } : { content: '{"summary": "ok"}' }));
  const client = createLlmClient({ baseURL: server.baseURL, apiKey: SECRET, model: 'm' }, { pacer: { backoffMs: 20 } });
  const llm = createLlmAnalyzer({ mode: 'summarize', client });
  const chunk = await llm.analyzeChunk?.([{ page: 1, text: 'text' }], context());
  assert.equal((chunk?.data as { summary: string }).summary, 'ok');
  assert.equal(server.requests.length, 3);
  assert.equal(client.pacer.stats.throttled, 2);

  server.script(() => ({ status: 429, retryAfterMs: '10' }));
  await assert.rejects(llm.analyzeChunk?.([{ page: 1, text: 'other text' }], context()) ?? Promise.resolve(), (error: ReamError) => {
    assert.equal(error.code, 'llm_rate_limited');
    assert.equal(error.retryable, true);
    assert.equal(error.retryAfterMs, 10);
    return true;
  });
  server.script(() => ({ drop: true }));
  await assert.rejects(llm.analyzeChunk?.([{ page: 1, text: 'third' }], context()) ?? Promise.resolve(), { code: 'llm_unavailable' });
});

test('a call that outlives the timeout is llm_unavailable (retryable)', async () => {
  server.script(() => ({ hang: true }));
  const client = createLlmClient({ baseURL: server.baseURL, model: 'm', timeoutMs: 200 }, { pacer: { backoffMs: 20, maxRetries: 1 } });
  const llm = createLlmAnalyzer({ mode: 'summarize', client });
  await assert.rejects(llm.analyzeChunk?.([{ page: 1, text: 'slow' }], context()) ?? Promise.resolve(), (error: ReamError) => {
    assert.equal(error.code, 'llm_unavailable');
    assert.equal(error.retryable, true);
    return true;
  });
});

test('the response cache: a repeat of the same request makes no call and counts a hit', async (t) => {
  // A server of its own: a request an earlier test gave up on (the timeout test's) may reach the
  // shared one late, under load after this test began, and would be counted as a call made here.
  const own = await startFakeOpenAi(() => ({ content: goodAnswer }));
  t.after(() => own.close());
  const store = new MemoryAnalysisStore();
  const llm = analyzer({}, { baseURL: own.baseURL });
  const first = await llm.analyzeChunk?.(pages, context({ store, jobId: 'j1', tenantId: 't1' }));
  const second = await llm.analyzeChunk?.(pages, context({ store, jobId: 'j2', tenantId: 't1' }));
  assert.equal(own.requests.length, 1);
  assert.deepEqual(second?.data, first?.data);
  assert.deepEqual(second?.usage, { promptTokens: 0, completionTokens: 0, calls: 0, cachedCalls: 1 });
  assert.deepEqual(await store.tenantUsage('t1'), [{ model: 'test-model', promptTokens: 100, completionTokens: 20, calls: 1, cachedCalls: 1 }]);
  // Another prompt is another request.
  await analyzer({ prompt: 'Only the total' }, { baseURL: own.baseURL }).analyzeChunk?.(pages, context({ store, jobId: 'j3' }));
  assert.equal(own.requests.length, 2);
});

test('the job budget stops calls before they overspend: budget_exceeded', async () => {
  server.requests.length = 0;
  // The first call spends 900 of 1000: what is left (100) is less than even a call about the
  // smallest part of a page (about 180), so the next chunk is not split for it.
  server.script(() => ({ content: '{"summary": "s"}', promptTokens: 800, completionTokens: 100 }));
  const store = new MemoryAnalysisStore();
  const llm = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' }, maxTokens: 1000, maxCompletionTokens: 100 });
  await llm.analyzeChunk?.([{ page: 1, text: 'a'.repeat(400) }], context({ store, jobId: 'budget' }));
  await assert.rejects(llm.analyzeChunk?.([{ page: 1, text: 'b'.repeat(2000) }], context({ store, jobId: 'budget' })) ?? Promise.resolve(), (error: ReamError) => {
    assert.equal(error.code, 'budget_exceeded');
    assert.equal(error.retryable, false);
    return true;
  });
  assert.equal(server.requests.length, 1, 'the second call was never made');
  // The job's spending has ended: a call small enough for what is left is not made either.
  await assert.rejects(llm.analyzeChunk?.([{ page: 1, text: 'c' }], context({ store, jobId: 'budget' })) ?? Promise.resolve(), { code: 'budget_exceeded', message: /no more model calls/ });
  assert.equal(server.requests.length, 1, 'no call after the budget was reached');
  // Another job's budget is its own.
  await llm.analyzeChunk?.([{ page: 1, text: 'c' }], context({ store, jobId: 'other-budget' }));
  assert.equal(server.requests.length, 2);
});

test('a chunk whose call is estimated above what the budget has left is asked about in smaller parts: those that fit are answered, the rest fail budget_exceeded', async () => {
  server.requests.length = 0;
  server.script((request) => ({ content: JSON.stringify({ summary: `pages ${pagesIn(request).join(',')}` }), promptTokens: 100, completionTokens: 10 }));
  const store = new MemoryAnalysisStore();
  const client = createLlmClient({ baseURL: server.baseURL, model: 'm' });
  const llm = createLlmAnalyzer({ mode: 'summarize', client, maxTokens: 330, maxCompletionTokens: 20 });
  // Four pages of about 100 tokens: the chunk's call is estimated at about 480 tokens, two
  // pages' at about 270, one page's at about 160. Each call spends 110.
  const four = [1, 2, 3, 4].map((page) => ({ page, text: `page ${page} ${'words '.repeat(66)}` }));
  const result = await llm.analyzeChunk?.(four, context({ store, jobId: 'split-budget' }));
  // Pages 1–2 (270 of 330 left), then page 3 (160 of 220), then page 4 (160 of 110) no longer fits,
  // nor either half of its text (about 110 of 110 left: the budget ends).
  assert.deepEqual(server.requests.map(pagesIn), [[1, 2], [3]]);
  // A part too big for what is left takes no turn of the rate window; the call that ends the budget takes its own.
  assert.equal(client.pacer.stats.started, 3);
  assert.deepEqual(result?.data, { summary: 'pages 1,2\n\npages 3', firstPage: 1, lastPage: 3 });
  assert.deepEqual(result?.usage, { promptTokens: 200, completionTokens: 20, calls: 2, cachedCalls: 0 });
  assert.deepEqual(result?.failures?.map((failure) => [failure.page, failure.code]), [[4, 'budget_exceeded']]);
  assert.match(result?.failures?.[0]?.message ?? '', /^the llm analysis of page 4 failed: the job's token budget \(maxTokens 330\) does not cover the next model call .*no more model calls$/);
  const [spent] = await store.jobUsage('split-budget');
  assert.ok(spent && spent.promptTokens + spent.completionTokens <= 330);
  // The budget has ended: a later chunk fails as a whole, without a call.
  await rejectsWithCode(llm.analyzeChunk?.(four.slice(0, 1), context({ store, jobId: 'split-budget' })) ?? Promise.resolve(), 'budget_exceeded');
  assert.equal(server.requests.length, 2);
});

test('a chunk answered in parts for the budget is not paid for again: a run with a larger budget asks only about the parts not answered, and summarises them into one chunk summary', async () => {
  server.requests.length = 0;
  server.script((request) => {
    const ranges = [...userText(request).matchAll(/Pages (\d+)–(\d+)/g)].flatMap((m) => [Number(m[1]), Number(m[2])]);
    // A reduce prompt lists its parts' summaries by page range; a map prompt has page markers.
    const summary = ranges.length > 0 ? `pages ${Math.min(...ranges)}-${Math.max(...ranges)} in short` : `pages ${pagesIn(request).join(',')}`;
    return { content: JSON.stringify({ summary }), promptTokens: 100, completionTokens: 10 };
  });
  const store = new MemoryAnalysisStore();
  const client = createLlmClient({ baseURL: server.baseURL, model: 'm' });
  const four = [1, 2, 3, 4].map((page) => ({ page, text: `page ${page} ${'words '.repeat(66)}` }));
  // As above: pages 1–2 and 3 answered within 330 tokens, page 4 not.
  const first = await createLlmAnalyzer({ mode: 'summarize', client, maxTokens: 330, maxCompletionTokens: 20 }).analyzeChunk?.(four, context({ store, jobId: 'parts-1', sha256: 'doc-sha' }));
  assert.deepEqual(first?.failures?.map((failure) => failure.page), [4]);
  assert.deepEqual(server.requests.map(pagesIn), [[1, 2], [3]]);
  // The job submitted again with room for the whole chunk: only page 4 is asked about.
  const roomy = createLlmAnalyzer({ mode: 'summarize', client, maxTokens: 5000, maxCompletionTokens: 20 });
  const second = await roomy.analyzeChunk?.(four, context({ store, jobId: 'parts-2', sha256: 'doc-sha' }));
  // Page 4, then the parts' summaries reduced into one: the shape of the chunk's answer asked
  // about at once (one summary), not its parts' summaries one after another.
  assert.deepEqual(server.requests.slice(2).map(pagesIn), [[4], []]);
  assert.match(userText(server.requests[3] as ReceivedRequest), /^Pages 1–2:\npages 1,2\n\nPages 3–3:\npages 3\n\nPages 4–4:\npages 4$/);
  assert.deepEqual(second?.data, { summary: 'pages 1-4 in short', firstPage: 1, lastPage: 4 });
  assert.deepEqual(second?.fields.summary, [{ value: 'pages 1-4 in short', page: 1 }]);
  assert.deepEqual(second?.usage, { promptTokens: 200, completionTokens: 20, calls: 2, cachedCalls: 2 });
  assert.equal(second?.failures, undefined);
  // Once more: every part and the reduce are answered, no call at all.
  const third = await roomy.analyzeChunk?.(four, context({ store, jobId: 'parts-3', sha256: 'doc-sha' }));
  assert.equal(server.requests.length, 4);
  assert.deepEqual(third?.data, second?.data);
  assert.equal(third?.usage?.calls, 0);
});

test('a chunk split for the budget whose part is still throttled on the last attempt keeps the parts answered: only the throttled pages fail', async () => {
  server.requests.length = 0;
  server.script((request) => (pagesIn(request).includes(3)
    ? { status: 429, retryAfterMs: '10' }
    : { content: JSON.stringify({ summary: `pages ${pagesIn(request).join(',')}` }), promptTokens: 100, completionTokens: 10 }));
  const store = new MemoryAnalysisStore();
  const client = createLlmClient({ baseURL: server.baseURL, model: 'm' }, { pacer: { backoffMs: 20 } });
  // The chunk's call (about 480 tokens) is over the 400 of the budget: pages 1–2 are asked about,
  // then pages 3 and 4 each (both together are over the 290 left).
  const llm = createLlmAnalyzer({ mode: 'summarize', client, maxTokens: 400, maxCompletionTokens: 20 });
  const four = [1, 2, 3, 4].map((page) => ({ page, text: `page ${page} ${'words '.repeat(66)}` }));
  // Before the last attempt the chunk fails for the queue to try again.
  await rejectsWithCode(llm.analyzeChunk?.(four, context({ store, jobId: 'throttled' })) ?? Promise.resolve(), 'llm_rate_limited');
  const calls = server.requests.length;
  const result = await llm.analyzeChunk?.(four, context({ store, jobId: 'throttled', finalAttempt: 3 }));
  // Pages 1–2 come from the cache; page 3 is asked about again, still throttled, and page 4 after it.
  assert.deepEqual([...new Set(server.requests.slice(calls).map((request) => pagesIn(request).join()))], ['3', '4']);
  assert.deepEqual(result?.data, { summary: 'pages 1,2\n\npages 4', firstPage: 1, lastPage: 4 });
  assert.deepEqual(result?.failures?.map((failure) => [failure.page, failure.code]), [[3, 'llm_rate_limited']]);
  assert.match(result?.failures?.[0]?.message ?? '', /^the llm analysis of page 3 failed: .*\(after 3 attempts\)$/);
});

test('a chunk split for the budget whose part is still refused on the last attempt for other workers\' calls holding the budget keeps the parts answered, and the job says the budget stopped some calls', async (t) => {
  server.requests.length = 0;
  const store = new MemoryAnalysisStore();
  const keepAlive: NodeJS.Timeout[] = [];
  t.after(() => keepAlive.forEach(clearInterval));
  server.script(async (request) => {
    // Another worker's calls of the job take the rest of the budget while pages 1–2 are answered, and go on.
    if (keepAlive.length === 0) {
      // Beside this call's reservation (about 320): pages 3–4 (about 320 too) then fit what is spent, not what is held.
      assert.equal(await store.reserve('held-split', 100, 450), true);
      keepAlive.push(setInterval(() => void store.reserve('held-split', 0, 450), 5));
    }
    return { content: JSON.stringify({ summary: `pages ${pagesIn(request).join(',')}` }), promptTokens: 100, completionTokens: 10 };
  });
  const client = createLlmClient({ baseURL: server.baseURL, model: 'm' });
  const llm = createLlmAnalyzer({ mode: 'summarize', client, maxTokens: 450, maxCompletionTokens: 20, budgets: new JobBudgets({ maxWaitMs: 50, pollMs: 10 }) });
  const four = [1, 2, 3, 4].map((page) => ({ page, text: `page ${page} ${'words '.repeat(66)}` }));
  const result = await llm.analyzeChunk?.(four, context({ store, jobId: 'held-split', finalAttempt: 2 }));
  assert.deepEqual(server.requests.map(pagesIn), [[1, 2]]);
  assert.deepEqual(result?.data, { summary: 'pages 1,2', firstPage: 1, lastPage: 2 });
  assert.deepEqual(result?.failures?.map((failure) => [failure.page, failure.code]), [[3, 'budget_exceeded'], [4, 'budget_exceeded']]);
  assert.match(result?.failures?.[0]?.message ?? '', /in flight in other workers.*\(after 2 attempts\)$/);
  assert.deepEqual(await store.budgetStop('held-split'), { maxTokens: 450, ended: false });
});

test('a chunk split deeply for length whose parts are refused on its last attempt for other workers\' calls holding the budget waits for room once, not once per part', async (t) => {
  server.requests.length = 0;
  const store = new MemoryAnalysisStore();
  const keepAlive: NodeJS.Timeout[] = [];
  t.after(() => keepAlive.forEach(clearInterval));
  // The model takes one page at a time; once page 1 is answered another worker's calls hold the
  // rest of the budget, and go on reserving.
  server.script(async (request) => {
    if (pagesIn(request).length > 1) return { status: 400, message: 'context_length_exceeded: too many tokens' };
    if (keepAlive.length === 0) {
      // All this call's reservation leaves: no other page's call fits beside it.
      let held = 10_000;
      while (!(await store.reserve('held-deep', held, 10_000))) held -= 10;
      keepAlive.push(setInterval(() => void store.reserve('held-deep', 0, 10_000), 5));
    }
    return { content: JSON.stringify({ summary: `page ${pagesIn(request).join()}` }), promptTokens: 50, completionTokens: 5 };
  });
  // Long beside the calls' own time (a loaded machine), so that two waits cannot pass for one.
  const wait = 1_000;
  const client = createLlmClient({ baseURL: server.baseURL, model: 'm' });
  const llm = createLlmAnalyzer({ mode: 'summarize', client, maxTokens: 10_000, maxCompletionTokens: 20, budgets: new JobBudgets({ maxWaitMs: wait, pollMs: 10 }) });
  const eight = [1, 2, 3, 4, 5, 6, 7, 8].map((page) => ({ page, text: `page ${page} ${'words '.repeat(30)}` }));
  const started = Date.now();
  const result = await llm.analyzeChunk?.(eight, context({ store, jobId: 'held-deep', finalAttempt: 2 }));
  const took = Date.now() - started;
  // Pages 1–8, 1–4, 1–2 refused as too long, page 1 answered; then page 2, pages 3–4 and pages
  // 5–8 each wait for room: the first waits the longest wait, the others what is left of it.
  assert.deepEqual(result?.data, { summary: 'page 1', firstPage: 1, lastPage: 1 });
  assert.deepEqual(result?.failures?.map((failure) => failure.page), [2, 3, 4, 5, 6, 7, 8]);
  assert.ok(result?.failures?.every((failure) => failure.code === 'budget_exceeded'));
  assert.ok(took >= wait && took < 2 * wait, `took ${took} ms for a longest wait of ${wait} ms`);
});

test('a page is cut for the budget only while what is left could hold all its text: no calls about ever smaller pieces of a page that fails anyway', async () => {
  server.requests.length = 0;
  // A call spends about its prompt: a quarter of its characters.
  server.script((request) => ({ content: '{"summary": "s"}', promptTokens: Math.ceil(userText(request).length / 4) + 40, completionTokens: 10 }));
  const llm = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' }, maxTokens: 3000 });
  // One page of about 2,760 tokens, its call estimated at about 3,500 (its answer reserved a quarter of its prompt).
  const page = [{ page: 1, text: Array.from({ length: 2000 }, (_, index) => `w${index}`).join(' ') }];
  const store = new MemoryAnalysisStore();
  // 3,000 left cannot hold the page's text and an answer: its pieces would be asked about, ever
  // smaller, until the budget ends, and the page would fail all the same.
  await rejectsWithCode(llm.analyzeChunk?.(page, context({ store, jobId: 'whole-page' })) ?? Promise.resolve(), 'budget_exceeded');
  assert.equal(server.requests.length, 0);
  // 3,300 hold it: the halves of its text are answered, the page with them (their summaries then
  // reduced into one, which what is left holds too).
  const roomy = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' }, maxTokens: 3300 });
  const result = await roomy.analyzeChunk?.(page, context({ store, jobId: 'halves' }));
  assert.deepEqual(server.requests.map(pagesIn), [[1], [1], []]);
  assert.equal(result?.failures, undefined);
  const [spent] = await store.jobUsage('halves');
  assert.ok(spent && spent.promptTokens + spent.completionTokens <= 3300);
});

test('calls in flight hold the budget only for their estimate until they settle: concurrent chunks that fit are all answered', async () => {
  server.requests.length = 0;
  server.script(async () => {
    await new Promise((resolve) => setTimeout(resolve, 30));
    return { content: '{"summary": "s"}', promptTokens: 60, completionTokens: 10 };
  });
  const store = new MemoryAnalysisStore();
  // Each call's estimate is its prompt plus 256 tokens for the answer; it spends 70. Eight at
  // once do not fit in the budget together as estimates, but they do as what they spend.
  const llm = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' }, maxTokens: 1500 });
  const analyzeChunk = llm.analyzeChunk?.bind(llm);
  assert.ok(analyzeChunk);
  const chunks = Array.from({ length: 8 }, (_, i) => analyzeChunk([{ page: 1, text: `chunk ${i} ${'x'.repeat(40)}` }], context({ store, jobId: 'shared-budget' })));
  const settled = await Promise.allSettled(chunks);
  assert.deepEqual(settled.map((outcome) => outcome.status), Array.from({ length: 8 }, () => 'fulfilled'), String(settled.find((outcome) => outcome.status === 'rejected')?.reason));
  assert.equal(server.requests.length, 8);
});

test('the budget holds for text of about a token a character (Chinese, Japanese): calls at once never spend past maxTokens', async () => {
  server.requests.length = 0;
  // A tokenizer's count: about a token per CJK character, four characters a token elsewhere.
  const tokensOf = (text: string): number => Math.ceil([...text].filter((char) => char < '\u0800').length / 4) + [...text].filter((char) => char >= '\u0800').length;
  server.script(async (request) => {
    await new Promise((resolve) => setTimeout(resolve, 30));
    return { content: '{"summary": "s"}', promptTokens: request.body.messages.reduce((sum, message) => sum + tokensOf(message.content), 0), completionTokens: 50 };
  });
  const store = new MemoryAnalysisStore();
  const llm = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' }, maxTokens: 3000, maxCompletionTokens: 50 });
  const analyzeChunk = llm.analyzeChunk?.bind(llm);
  assert.ok(analyzeChunk);
  const chunks = Array.from({ length: 6 }, (_, i) => analyzeChunk([{ page: 1, text: `第${i}章 ${'契約書の条項'.repeat(66)}` }], context({ store, jobId: 'cjk-budget' })));
  await Promise.allSettled(chunks);
  const [spent] = await store.jobUsage('cjk-budget');
  assert.ok(spent && spent.promptTokens + spent.completionTokens <= 3000, `spent ${spent ? spent.promptTokens + spent.completionTokens : 0} of a 3000-token budget`);
});

test('llm_context_too_long: the chunk is split further (pages, then text) rather than failing', async () => {
  server.requests.length = 0;
  // The server takes at most one page, and no more than 300 characters of it.
  server.script((request) => {
    const text = userText(request);
    if (pagesIn(request).length > 1 || text.length > 300) return { status: 400, message: 'context_length_exceeded: too many tokens' };
    // The parts' summaries, listed by page range, are reduced into one.
    if (text.startsWith('Pages ')) return { content: JSON.stringify({ summary: `one summary of ${text.match(/^Pages/gm)?.length} parts` }) };
    return { content: JSON.stringify({ summary: `part of page ${pagesIn(request)[0]}` }) };
  });
  const llm = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' } });
  const chunk = await llm.analyzeChunk?.([{ page: 1, text: 'short page' }, { page: 2, text: 'word '.repeat(100) }], context());
  assert.deepEqual(chunk?.data, { summary: 'one summary of 3 parts', firstPage: 1, lastPage: 2 });
  const reduce = server.requests.at(-1);
  assert.deepEqual(userText(reduce as ReceivedRequest).split('\n\n'), ['Pages 1–1:\npart of page 1', 'Pages 2–2:\npart of page 2', 'Pages 2–2:\npart of page 2']);
});

test('a chunk\'s parts\' answers not reduced for the budget leave the job\'s budget as it is: its other chunks are still asked about', async () => {
  server.requests.length = 0;
  server.script((request) => {
    const asked = pagesIn(request);
    if (asked.length > 1) return { status: 400, message: 'context_length_exceeded: too many tokens' };
    // Long summaries: the parts' reduce prompt is longer than the context, so made in stages.
    const summary = asked.length === 0 ? 'in short' : `page ${asked[0]} ${'detail '.repeat(50)}`;
    return { content: JSON.stringify({ summary }), promptTokens: 50, completionTokens: 5 };
  });
  const store = new MemoryAnalysisStore();
  const llm = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm', contextTokens: 400 }, maxTokens: 900, maxCompletionTokens: 60 });
  const four = [1, 2, 3, 4].map((page) => ({ page, text: `page ${page} text` }));
  // The four pages answered one by one (220 tokens): the 680 left hold the reduce asked whole,
  // not its stages, which are not begun. The parts' summaries are joined as they are.
  const chunk = await llm.analyzeChunk?.(four, context({ store, jobId: 'optional-reduce' }));
  assert.deepEqual(server.requests.map((request) => pagesIn(request).length), [4, 2, 1, 1, 2, 1, 1]);
  assert.equal((chunk?.data as { summary: string }).summary.split('\n\n').length, 4);
  assert.equal(chunk?.failures, undefined);
  // The budget was not ended for it: the job's next chunk is asked about.
  assert.equal(await store.budgetStop('optional-reduce'), undefined);
  assert.equal(await store.budgetLeft('optional-reduce', 900), 680);
  const next = await llm.analyzeChunk?.([{ page: 5, text: 'page 5 text' }], context({ store, jobId: 'optional-reduce' }));
  assert.match((next?.data as { summary: string }).summary, /^page 5 /);
  assert.equal(server.requests.length, 8);
});

test('a page cut in two for length is never cut inside a character: both parts are well-formed text', async () => {
  server.requests.length = 0;
  server.script((request) => (userText(request).length > 500 ? { status: 400, message: 'context_length_exceeded: too many tokens' } : { content: JSON.stringify({ summary: 'part' }) }));
  const llm = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' } });
  // 301 emoji without a space: 602 UTF-16 units, whose middle falls inside a surrogate pair.
  await llm.analyzeChunk?.([{ page: 1, text: '😀'.repeat(301) }], context());
  // The whole, its two halves, then their two summaries reduced into one.
  const parts = server.requests.slice(1, 3).map((request) => userText(request));
  assert.equal(server.requests.length, 4);
  assert.ok(parts.every((part) => part.isWellFormed()), 'no lone surrogate was sent');
  assert.equal(parts.join('').replaceAll(/<<<page 1>>>\n/g, ''), '😀'.repeat(301));
});

test('split for length, a chunk\'s overlap pages are never asked about on their own', async () => {
  server.requests.length = 0;
  server.script((request) => (pagesIn(request).length > 1 ? { status: 400, message: 'context_length_exceeded: too many tokens' }
    : { content: JSON.stringify({ summary: pagesIn(request).length === 0 ? 'pages 2 and 3' : `page ${pagesIn(request)[0]}` }) }));
  const llm = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' } });
  // The chunk owns pages 2 and 3; pages 1 and 4 are its overlap (context).
  const pages = [1, 2, 3, 4].map((page) => ({ page, text: `text of page ${page}` }));
  const chunk = await llm.analyzeChunk?.(pages, context({ chunk: { index: 1, from: 1, to: 3 } }));
  const single = server.requests.filter((request) => pagesIn(request).length === 1).map((request) => pagesIn(request)[0]);
  assert.deepEqual(single.sort(), [2, 3], 'pages 1 and 4 alone were not sent');
  // The two pages' summaries, then one of them (the reduce prompt has no page marker).
  assert.match(userText(server.requests.at(-1) as ReceivedRequest), /^Pages 2–2:\npage 2\n\nPages 3–3:\npage 3$/);
  assert.deepEqual(chunk?.data, { summary: 'pages 2 and 3', firstPage: 2, lastPage: 3 });
});

test('a server without json_schema support is asked again in JSON mode, and answers are still validated', async () => {
  server.requests.length = 0;
  server.script((request) => request.body.response_format?.type === 'json_schema'
    ? { status: 400, message: "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model" }
    : { content: '```json\n{"summary": "fenced"}\n```' });
  const llm = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' } });
  const chunk = await llm.analyzeChunk?.([{ page: 1, text: 'x' }], context());
  assert.equal((chunk?.data as { summary: string }).summary, 'fenced');
  assert.deepEqual(server.requests.map((r) => r.body.response_format?.type), ['json_schema', 'json_object']);
});

test('a bad spec is refused with validation_failed before any call', () => {
  const provider = { baseURL: 'http://127.0.0.1:9/v1', model: 'm' };
  for (const bad of [{ mode: 'extract' }, { mode: 'classify', labels: ['one'] }, { mode: 'ask' }, { mode: 'dance' }, { schema: { type: 'string' } }, { schema: { type: 'object', properties: { a: { type: 'nope' } } } }]) {
    assert.throws(() => createLlmAnalyzer({ provider, ...(bad as object) }), { code: 'validation_failed' }, JSON.stringify(bad));
  }
  // A base URL no call could use: said at once, not after a call's retries as a connection error.
  assert.throws(() => createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: 'http://user:pass@127.0.0.1:9/v1', model: 'm' } }), { code: 'validation_failed', message: /must not hold a user name or password/ });
  assert.throws(() => createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: 'ftp://127.0.0.1/v1', model: 'm' } }), { code: 'validation_failed', message: /http\(s\) URL/ });
});

test('a key, organization or header no HTTP request can carry is refused at once, naming the setting, never the value', () => {
  // The README's `REAM_LLM_API_KEY=sk-…` pasted as is: `…` is U+2026, outside a header's bytes.
  assert.throws(() => createLlmClient({ baseURL: 'http://127.0.0.1:9/v1', apiKey: 'sk-…', model: 'm' }), (error: unknown) => {
    assert.ok(error instanceof ReamError);
    assert.equal(error.code, 'validation_failed');
    assert.equal(error.retryable, false);
    assert.match(error.message, /REAM_LLM_API_KEY.*U\+2026/);
    assert.doesNotMatch(error.message, /sk-/);
    return true;
  });
  assert.throws(() => createLlmClient({ apiKey: 'sk-key\n', model: 'm' }), { code: 'validation_failed', message: /U\+000A/ });
  assert.throws(() => createLlmClient({ organization: 'Société ✓', model: 'm' }), { code: 'validation_failed', message: /REAM_LLM_ORGANIZATION/ });
  assert.throws(() => createLlmClient({ headers: { 'api-key': 'k€y' }, model: 'm' }), { code: 'validation_failed', message: /header "api-key"/ });
  // A key read from a file ends in a newline: taken off, never refused.
  assert.equal(llmSettingsFromEnv({ REAM_LLM_MODEL: 'm', REAM_LLM_API_KEY: 'sk-from-file\n', REAM_LLM_ORGANIZATION: ' org-1 \r\n' })?.apiKey, 'sk-from-file');
  assert.equal(llmSettingsFromEnv({ REAM_LLM_MODEL: 'm', REAM_LLM_ORGANIZATION: ' org-1 \r\n' })?.organization, 'org-1');
  // Latin-1 is a header's alphabet: such a key goes out as it is.
  assert.doesNotThrow(() => createLlmClient({ apiKey: 'sk-clé', organization: 'Société', model: 'm' }));
});

test('a schema whose pattern could backtrack for ever on an answer is refused before any call; a safe pattern is enforced', async () => {
  server.requests.length = 0;
  const provider = { baseURL: server.baseURL, model: 'm' };
  const nested = { type: 'object', properties: { code: { type: 'string', pattern: '^(a+)+$' } } };
  const deep = { type: 'object', properties: { items: { type: 'array', items: { type: 'object', patternProperties: { '^(\\w+\\s?)*$': { type: 'string' } } } } } };
  // A bounded outer repeat is no cure: `^(a+){1,50}$` takes over a second on 25 characters.
  const bounded = { type: 'object', properties: { code: { type: 'string', pattern: '^(a+){1,50}$' } } };
  const exact = { type: 'object', properties: { code: { type: 'string', pattern: '^(.*a){12}$' } } };
  const viaRef = { type: 'object', definitions: { code: { type: 'string', pattern: '^(a+)+$' } }, properties: { code: { $ref: '#/definitions/code' } } };
  for (const bad of [nested, deep, bounded, exact, viaRef]) {
    assert.throws(() => createLlmAnalyzer({ provider, schema: bad }), { code: 'validation_failed', message: /nests unbounded quantifiers/ }, JSON.stringify(bad));
  }
  // Such an answer against `^(a+)+$` would hold the event loop for hours; nothing was sent.
  assert.equal(server.requests.length, 0);
  // A "pattern" key in data (examples, const, default, enum) is not a regular expression, nor is
  // a property named "pattern": such schemas compile.
  const data = { pattern: '^(a+)+$' };
  const withData = {
    type: 'object',
    examples: [data],
    default: data,
    properties: { rule: { type: 'object', const: data }, kind: { enum: [data] }, pattern: { type: 'string', pattern: '^[a-z]+$' } },
  };
  assert.doesNotThrow(() => createLlmAnalyzer({ provider, schema: withData }));
  server.script(() => ({ content: JSON.stringify({ values: { code: 'AB-12!' }, sources: {} }) }));
  const safe = createLlmAnalyzer({ provider, schema: { type: 'object', properties: { code: { type: 'string', pattern: '^[A-Z]{2}-\\d+$' } } }, maxRepairs: 0 });
  await assert.rejects(safe.analyzeChunk?.([{ page: 1, text: 'code AB-12' }], context()) ?? Promise.resolve(), { code: 'llm_invalid_output', message: /must match pattern/ });
});

test('pages without text are not sent to the model: no call, no tokens, nothing invented', async () => {
  server.requests.length = 0;
  server.script((request) => ({ content: JSON.stringify({ values: { total: 9 }, sources: {}, summary: `read ${pagesIn(request).join(',')}` }) }));
  const blank = [{ page: 1, text: '' }, { page: 2, text: '  \n\t ' }];
  const extract = analyzer();
  const chunk = await extract.analyzeChunk?.(blank, context());
  assert.deepEqual(chunk?.usage, { promptTokens: 0, completionTokens: 0, calls: 0, cachedCalls: 0 });
  assert.deepEqual(chunk?.data, { values: {}, sources: {} });
  assert.deepEqual(chunk?.fields.total, []);
  // Summarize: a blank chunk has no summary, and the document step has one summary to combine, not two.
  const summarize = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' } });
  const first = await summarize.analyzeChunk?.([{ page: 1, text: 'Some words' }, { page: 2, text: '' }], context({ chunk: { index: 0, from: 0, to: 1 } }));
  const second = await summarize.analyzeChunk?.([{ page: 1, text: 'Some words' }, { page: 2, text: '' }], context({ chunk: { index: 1, from: 1, to: 2 } }));
  assert.deepEqual(second?.usage?.calls, 0);
  const doc = await summarize.finish?.([{ index: 0, from: 0, to: 1, data: first?.data ?? null }, { index: 1, from: 1, to: 2, data: second?.data ?? null }], {}, context());
  assert.equal((doc?.data as { summary: string }).summary, 'read 1,2');
  assert.deepEqual(server.requests.map((request) => pagesIn(request)), [[1, 2]], 'one call, for the page with text');
});

test('an answer longer than a million characters is not taken (nor cached): it is invalid output', async () => {
  server.requests.length = 0;
  const huge = JSON.stringify({ values: { total: 1, parties: ['x'.repeat(1_000_000)] }, sources: {} });
  server.script(() => ({ content: huge }));
  const store = new MemoryAnalysisStore();
  const llm = analyzer({ maxRepairs: 0, store });
  await assert.rejects(llm.analyzeChunk?.(pages, context()) ?? Promise.resolve(), { code: 'llm_invalid_output', message: /characters long, more than the 1000000/ });
  await assert.rejects(llm.analyzeChunk?.(pages, context()) ?? Promise.resolve(), { code: 'llm_invalid_output' });
  assert.equal(server.requests.length, 2, 'asked again: nothing was cached');
});

test('ask: chunks answer from their own pages; several answers are combined by a reduce call', async () => {
  server.requests.length = 0;
  server.script((request) => {
    const system = request.body.messages[0]?.content ?? '';
    if (system.includes('Combine them')) return { content: '{"answer": "Acme and Globex sign"}' };
    const seen = pagesIn(request);
    if (seen.includes(1)) return { content: JSON.stringify({ answer: 'Acme signs', pages: [1], quote: 'Acme' }) };
    if (seen.includes(3)) return { content: JSON.stringify({ answer: 'Globex signs', pages: [3], quote: 'Globex' }) };
    return { content: JSON.stringify({ answer: null, pages: [], quote: '' }) };
  });
  const llm = createLlmAnalyzer({ mode: 'ask', question: 'Who signs?', provider: { baseURL: server.baseURL, model: 'm' } });
  const chunks = [];
  for (const [index, from, to] of [[0, 0, 1], [1, 1, 2], [2, 2, 3]] as const) {
    const result = await llm.analyzeChunk?.([{ page: from + 1, text: `page ${from + 1}` }], context({ chunk: { index, from, to } }));
    chunks.push({ index, from, to, data: result?.data ?? null });
  }
  const doc = await llm.finish?.(chunks, {}, context());
  assert.deepEqual(doc?.data, { answer: 'Acme and Globex sign', pages: [1, 3], quote: 'Acme' });
  assert.deepEqual(doc?.fields.answer, [{ value: 'Acme and Globex sign', page: 1, pages: [1, 3], quote: 'Acme' }]);
  assert.equal(server.requests.length, 4, 'three chunks and one reduce');
  assert.equal(server.requests[3]?.body.messages[0]?.content.includes('Who signs?'), true);
});

test('summarize: chunk summaries longer together than the model takes are reduced a half at a time, each call within its context', async () => {
  server.requests.length = 0;
  const contextTokens = 600;
  server.script((request) => {
    const text = request.body.messages.map((message) => message.content).join('\n');
    if (text.length / 4 > contextTokens) return { status: 400, message: 'context_length_exceeded: too many tokens' };
    const pages = [...userText(request).matchAll(/Pages (\d+)–(\d+)/g)].flatMap((m) => [Number(m[1]), Number(m[2])]);
    return { content: JSON.stringify({ summary: `pages ${Math.min(...pages)}-${Math.max(...pages)} in short` }) };
  });
  const llm = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm', contextTokens } });
  // Eight chunks of 20 pages, each summarised in ~100 tokens: ~800 tokens together.
  const chunks = Array.from({ length: 8 }, (_, index) => ({
    index, from: index * 20, to: (index + 1) * 20,
    data: { summary: `part ${index + 1}: ${'words '.repeat(65)}`, firstPage: index * 20 + 1, lastPage: (index + 1) * 20 },
  }));
  const doc = await llm.finish?.(chunks, {}, context());
  assert.equal(doc?.warnings, undefined, 'the whole document summarised, no part left out');
  assert.deepEqual(doc?.data, { summary: 'pages 1-160 in short', firstPage: 1, lastPage: 160 });
  assert.ok(server.requests.length >= 3, `${server.requests.length} reduce calls`);
  assert.ok(server.requests.every((request) => request.body.messages.map((m) => m.content).join('\n').length / 4 <= contextTokens), 'no call past the context');
});

test('summarize: a reduce prompt over what the job\'s budget has left is reduced in stages when they fit; else the chunks\' answers are combined as before', async () => {
  server.requests.length = 0;
  // A call spends about its prompt (a quarter of its characters, and its instructions), and a short answer.
  server.script((request) => {
    const pages = [...userText(request).matchAll(/Pages (\d+)–(\d+)/g)].flatMap((m) => [Number(m[1]), Number(m[2])]);
    const prompt = Math.ceil(request.body.messages.map((message) => message.content).join('\n').length / 4);
    return { content: JSON.stringify({ summary: `pages ${Math.min(...pages)}-${Math.max(...pages)} in short` }), promptTokens: prompt, completionTokens: 10 };
  });
  // Four chunks summarised in ~1,000 tokens each: one reduce prompt of about 4,100 tokens,
  // estimated at about 5,100 with its answer; in halves about 2,100 each, then a short one.
  const chunks = Array.from({ length: 4 }, (_, index) => ({
    index, from: index * 20, to: (index + 1) * 20,
    data: { summary: `part ${index + 1}: ${'words '.repeat(660)}`, firstPage: index * 20 + 1, lastPage: (index + 1) * 20 },
  }));
  const staged = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' }, maxTokens: 5000 });
  const store = new MemoryAnalysisStore();
  const doc = await staged.finish?.(chunks, {}, context({ store, jobId: 'staged-reduce' }));
  assert.equal(doc?.warnings, undefined, 'the document is summarised by the model');
  assert.deepEqual(doc?.data, { summary: 'pages 1-80 in short', firstPage: 1, lastPage: 80 });
  assert.equal(server.requests.length, 3, 'each half, then the halves');
  const [spent] = await store.jobUsage('staged-reduce');
  assert.ok(spent && spent.promptTokens + spent.completionTokens <= 5000, `spent ${spent ? spent.promptTokens + spent.completionTokens : 0}`);
  // Submitted again with room for the whole prompt: the stages come from the cache, the whole is
  // not paid for again.
  server.requests.length = 0;
  const roomy = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' }, maxTokens: 50_000 });
  const again = await roomy.finish?.(chunks, {}, context({ store, jobId: 'staged-again' }));
  assert.equal(server.requests.length, 0, 'no call: every stage is cached');
  assert.deepEqual(again?.data, doc?.data);
  assert.deepEqual(again?.usage, { promptTokens: 0, completionTokens: 0, calls: 0, cachedCalls: 3 });
  // 4,000 left cannot pay for the stages (every chunk's answer is sent once, about 4,100 tokens):
  // no call, the answers combined with a warning.
  server.requests.length = 0;
  const short = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' }, maxTokens: 4000 });
  const combined = await short.finish?.(chunks, {}, context({ store: new MemoryAnalysisStore(), jobId: 'short-reduce' }));
  assert.equal(server.requests.length, 0);
  assert.deepEqual(combined?.warnings?.map((warning) => warning.code), ['analysis_incomplete']);
  assert.match(combined?.warnings?.[0]?.message ?? '', /budget_exceeded/);
});

test('summarize: a reduce in stages is not begun when what is left cannot pay for all its stages (each half holds its instructions again): budget_exceeded before any call, not after one', async () => {
  server.requests.length = 0;
  server.script((request) => ({ content: JSON.stringify({ summary: 'in short' }), promptTokens: Math.ceil(request.body.messages.map((message) => message.content).join('\n').length / 4), completionTokens: 10 }));
  // Four chunks summarised in ~1,000 tokens each: one reduce prompt of about 4,100 tokens, its
  // halves about 2,110 each (both with the ~110 tokens of instructions), the last stage at least
  // those instructions and an answer of 256: the stages need about 4,590.
  const chunks = Array.from({ length: 4 }, (_, index) => ({
    index, from: index * 20, to: (index + 1) * 20,
    data: { summary: `part ${index + 1}: ${'words '.repeat(660)}`, firstPage: index * 20 + 1, lastPage: (index + 1) * 20 },
  }));
  const store = new MemoryAnalysisStore();
  const llm = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' }, maxTokens: 4450 });
  const doc = await llm.finish?.(chunks, {}, context({ store, jobId: 'stages-short' }));
  assert.deepEqual(server.requests.length, 0, 'no stage is paid for');
  assert.deepEqual(doc?.usage, { promptTokens: 0, completionTokens: 0, calls: 0, cachedCalls: 0 });
  assert.deepEqual(doc?.warnings?.map((warning) => warning.code), ['analysis_incomplete']);
  assert.match(doc?.warnings?.[0]?.message ?? '', /budget_exceeded: .*4450 tokens left, fewer than the document-level answer needs at least/);
  assert.deepEqual(await store.budgetStop('stages-short'), { maxTokens: 4450, ended: true });
  // 4,700 would pay for the first half (about 2,120) but not then reserve the second's call
  // (about 2,640 with its answer): still no call.
  const tight = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' }, maxTokens: 4700 });
  const stopped = await tight.finish?.(chunks, {}, context({ store, jobId: 'stages-tight' }));
  assert.equal(server.requests.length, 0);
  assert.deepEqual(stopped?.warnings?.map((warning) => warning.code), ['analysis_incomplete']);
  // With enough for the stages they are made, and the job spends within its budget.
  const roomy = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' }, maxTokens: 4800 });
  const staged = await roomy.finish?.(chunks, {}, context({ store, jobId: 'stages-fit' }));
  assert.equal(staged?.warnings, undefined);
  assert.equal(server.requests.length, 3, 'each half, then the halves');
  const [spent] = await store.jobUsage('stages-fit');
  assert.ok(spent && spent.promptTokens + spent.completionTokens <= 4800, `spent ${spent ? spent.promptTokens + spent.completionTokens : 0}`);
});

test('summarize: a reduce prompt refused once other workers\' calls have spent what they held is made in stages only if what is left could pay for them: else no call', async () => {
  server.requests.length = 0;
  server.script((request) => ({ content: JSON.stringify({ summary: `${userText(request).length} characters in short` }), promptTokens: Math.ceil(userText(request).length / 4), completionTokens: 10 }));
  // One reduce prompt of about 4,100 tokens (about 5,100 with its answer): the stages need about 4,360 left.
  const chunks = Array.from({ length: 4 }, (_, index) => ({
    index, from: index * 20, to: (index + 1) * 20,
    data: { summary: `part ${index + 1}: ${'words '.repeat(660)}`, firstPage: index * 20 + 1, lastPage: (index + 1) * 20 },
  }));
  const store = new MemoryAnalysisStore();
  // Another worker's call holds 2,000 of the 6,000 when the reduce starts (6,000 left: the whole
  // prompt fits what is spent), then spends them: 4,000 left, too little for the stages.
  assert.equal(await store.reserve('raced-reduce', 2000, 6000), true);
  const settling = setTimeout(() => void store.settle('raced-reduce', 2000, 2000), 100);
  try {
    const llm = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' }, maxTokens: 6000, budgets: new JobBudgets({ pollMs: 10 }) });
    const doc = await llm.finish?.(chunks, {}, context({ store, jobId: 'raced-reduce' }));
    assert.equal(server.requests.length, 0, 'no stage is asked about: they could not all be paid for');
    assert.deepEqual(doc?.warnings?.map((warning) => warning.code), ['analysis_incomplete']);
  } finally {
    clearTimeout(settling);
  }
});

test('classify: labels are held to the list; the document label is the one with most weight over its chunks', async () => {
  server.requests.length = 0;
  server.script((request) => {
    const [page] = pagesIn(request);
    if (page === 1) return { content: JSON.stringify({ label: 'poem', pages: [1], quote: 'x' }) }; // not a label: repaired
    return { content: JSON.stringify({ label: page === 4 ? 'invoice' : 'contract', confidence: 0.9, pages: [page], quote: `p${page}` }) };
  });
  const llm = createLlmAnalyzer({ mode: 'classify', labels: ['invoice', 'contract'], maxRepairs: 0, provider: { baseURL: server.baseURL, model: 'm' } });
  await assert.rejects(llm.analyzeChunk?.([{ page: 1, text: 'one' }], context()) ?? Promise.resolve(), { code: 'llm_invalid_output' });
  const chunks = [];
  for (const [index, from, to] of [[0, 1, 3], [1, 3, 4]] as const) {
    const pages = Array.from({ length: to - from }, (_, i) => ({ page: from + i + 1, text: `page ${from + i + 1}` }));
    const result = await llm.analyzeChunk?.(pages, context({ chunk: { index, from, to } }));
    chunks.push({ index, from, to, data: result?.data ?? null });
  }
  const doc = await llm.finish?.(chunks, {}, context());
  assert.equal((doc?.data as { label: string }).label, 'contract', 'two pages of contract outweigh one of invoice');
  assert.equal(doc?.fields.label?.[0]?.value, 'contract');
});

test('a stream that stalls after its first bytes ends at the time limit as llm_unavailable, not never', async () => {
  server.script(() => ({ content: 'a long answer that stops coming', stall: true }));
  const client = createLlmClient({ baseURL: server.baseURL, model: 'm', timeoutMs: 300, stream: true }, { pacer: { backoffMs: 20, maxRetries: 0 } });
  const started = Date.now();
  await assert.rejects(createLlmAnalyzer({ mode: 'summarize', client }).analyzeChunk?.([{ page: 1, text: 'stalled' }], context()) ?? Promise.resolve(), (error: ReamError) => {
    assert.equal(error.code, 'llm_unavailable');
    assert.equal(error.retryable, true);
    assert.match(error.message, /did not answer in time/);
    return true;
  });
  assert.ok(Date.now() - started < 5_000, `ended after ${Date.now() - started} ms`);
});

test('a server that sends no usage is counted by estimate (4 characters a token), streamed or not', async () => {
  for (const stream of [false, true]) {
    server.script(() => ({ content: '{"summary": "short"}', noUsage: true }));
    const chunk = await analyzer({ mode: 'summarize', schema: undefined }, { stream }).analyzeChunk?.([{ page: 1, text: `no usage here ${stream ? 'streamed' : 'whole'} ${'word '.repeat(200)}` }], context());
    const usage = chunk?.usage;
    assert.ok((usage?.promptTokens ?? 0) > 250, `prompt tokens estimated from the prompt (${String(usage?.promptTokens)})`);
    assert.equal(usage?.completionTokens, Math.ceil('{"summary": "short"}'.length / 4));
  }
});

test('a schema the server refuses is the job\'s problem, not a reason for JSON mode; JSON mode after "unsupported" is for that request only', async () => {
  server.requests.length = 0;
  server.script(() => ({ status: 400, message: "Invalid schema for response_format 'fields': 'weird' is not valid" }));
  await assert.rejects(analyzer({ mode: 'summarize', schema: undefined }).analyzeChunk?.([{ page: 1, text: 'bad schema' }], context()) ?? Promise.resolve(), { code: 'analyzer_failed' });
  assert.deepEqual(server.requests.map((r) => r.body.response_format?.type), ['json_schema']);
  // OpenAI's strict-mode refusals: said as the schema's problem, once, never retried.
  for (const refusal of [
    "Invalid schema for response_format 'fields': In context=('properties', 'values'), 'additionalProperties' is required to be supplied and to be false.",
    "Invalid schema for response_format 'fields': In context=('properties', 'values', 'properties', 'code'), reference to component '#/$defs/code' which was not found in the schema.",
    "Invalid schema for response_format 'fields': In context=('properties', 'values'), 'patternProperties' is not supported",
  ]) {
    server.requests.length = 0;
    server.script(() => ({ status: 400, message: refusal }));
    const error = await rejectsWithCode(analyzer({ maxRepairs: 0 }).analyzeChunk?.([{ page: 1, text: 'strict' }], context()) ?? Promise.resolve(), 'analyzer_failed');
    assert.equal(error.retryable, false);
    assert.match(error.message, /refused the answer's JSON schema \(built from option "schema"/);
    assert.deepEqual(error.details, { status: 400, reason: 'schema_refused' });
    assert.equal(server.requests.length, 1, 'one call, no retry, no JSON-mode fallback');
  }

  server.requests.length = 0;
  server.script((request) => request.body.response_format?.type === 'json_schema'
    ? { status: 400, message: "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this model" }
    : { content: '{"summary": "ok"}' });
  const llm = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' } });
  await llm.analyzeChunk?.([{ page: 1, text: 'first' }], context());
  await llm.analyzeChunk?.([{ page: 1, text: 'second' }], context());
  assert.deepEqual(server.requests.map((r) => r.body.response_format?.type), ['json_schema', 'json_object', 'json_schema', 'json_object'], 'each request asks for the schema first');
});

test('an answer cut at its limit (finish_reason length) is asked again with the limit doubled, up to maxCompletionTokensCeiling (default 4 × maxCompletionTokens)', async () => {
  // The model needs 100 tokens of answer: below, its answer is cut.
  server.script((request) => ((request.body.max_tokens ?? 0) < 100
    ? { content: '{"summary": "a summary that goes on', finishReason: 'length', completionTokens: request.body.max_tokens ?? 0 }
    : { content: JSON.stringify({ summary: 'a summary in full' }), completionTokens: 100 }));
  server.requests.length = 0;
  const raised = await createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' }, maxCompletionTokens: 30 }).analyzeChunk?.(pages, context());
  assert.deepEqual(server.requests.map((request) => request.body.max_tokens), [30, 60, 120]);
  assert.equal((raised?.data as { summary: string }).summary, 'a summary in full');
  assert.match(userText(server.requests[1] as ReceivedRequest), /cut off at the answer length limit of 30 tokens; the limit is now 60/);
  // A cut answer that still parses but misses the schema is told both, each whole.
  server.requests.length = 0;
  server.script((request) => ((request.body.max_tokens ?? 0) < 60
    ? { content: '{"other": 1}', finishReason: 'length', completionTokens: request.body.max_tokens ?? 0 }
    : { content: JSON.stringify({ summary: 'a summary in full' }), completionTokens: 60 }));
  await createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' }, maxCompletionTokens: 30 }).analyzeChunk?.(pages, context());
  assert.match(userText(server.requests[1] as ReceivedRequest), /does not match the schema \([^)]*\); it was cut off at the answer length limit of 30 tokens; the limit is now 60: answer in full/);
  server.script((request) => ((request.body.max_tokens ?? 0) < 100
    ? { content: '{"summary": "a summary that goes on', finishReason: 'length', completionTokens: request.body.max_tokens ?? 0 }
    : { content: JSON.stringify({ summary: 'a summary in full' }), completionTokens: 100 }));
  // A ceiling bounds the raise: the answer stays cut, and fails as invalid.
  server.requests.length = 0;
  const bounded = createLlmAnalyzer({ mode: 'summarize', provider: { baseURL: server.baseURL, model: 'm' }, maxCompletionTokens: 30, maxCompletionTokensCeiling: 50 });
  await rejectsWithCode(bounded.analyzeChunk?.(pages, context()) ?? Promise.resolve(), 'llm_invalid_output');
  assert.deepEqual(server.requests.map((request) => request.body.max_tokens), [30, 50, 50]);
  // A ceiling below the limit, or without one, is refused.
  assert.throws(() => analyzer({ maxCompletionTokens: 30, maxCompletionTokensCeiling: 20 }), { code: 'validation_failed', message: /maxCompletionTokensCeiling.*≥ 30/ });
  assert.throws(() => analyzer({ maxCompletionTokensCeiling: 20 }), { code: 'validation_failed', message: /needs option "maxCompletionTokens"/ });
});

test('repairs are bounded (maxRepairs ≤ 5) and each sends the request and the last invalid answer only', async () => {
  assert.throws(() => analyzer({ maxRepairs: 6 }), { code: 'validation_failed', message: /≤ 5/ });
  server.requests.length = 0;
  server.script(() => ({ content: 'still not json' }));
  await assert.rejects(analyzer({ maxRepairs: 3 }).analyzeChunk?.(pages, context()) ?? Promise.resolve(), { code: 'llm_invalid_output' });
  assert.deepEqual(server.requests.map((r) => r.body.messages.length), [2, 4, 4, 4], 'no repair carries the earlier ones');
});

test('a Retry-After longer than a minute is not waited out in the process: the call fails at once, retryable, for the queue to retry later', async () => {
  server.requests.length = 0;
  server.script(() => ({ status: 429, retryAfter: '86400' }));
  const client = createLlmClient({ baseURL: server.baseURL, model: 'm' }, { pacer: { backoffMs: 20 } });
  const started = Date.now();
  await assert.rejects(createLlmAnalyzer({ mode: 'summarize', client }).analyzeChunk?.([{ page: 1, text: 'throttled for a day' }], context()) ?? Promise.resolve(), (error: ReamError) => {
    assert.equal(error.code, 'llm_rate_limited');
    assert.equal(error.retryable, true);
    return true;
  });
  assert.equal(server.requests.length, 1);
  assert.ok(Date.now() - started < 5_000);
  // The pause holds, for 5 minutes rather than the day asked: the next call of any chunk is
  // refused before it is sent, saying how long is left.
  await assert.rejects(createLlmAnalyzer({ mode: 'summarize', client }).analyzeChunk?.([{ page: 1, text: 'another chunk' }], context()) ?? Promise.resolve(), (error: ReamError) => {
    assert.equal(error.code, 'llm_rate_limited');
    assert.ok((error.retryAfterMs ?? 0) > 290_000 && (error.retryAfterMs ?? 0) <= 300_000, `retry after ${String(error.retryAfterMs)} ms`);
    return true;
  });
  assert.equal(server.requests.length, 1, 'no call during the pause');
});

test('a refused answer is billed too: its tokens are counted in the usage ledger', async () => {
  server.script(() => ({ refusal: 'not this one' }));
  const store = new MemoryAnalysisStore();
  const llm = analyzer({ mode: 'summarize', schema: undefined, store });
  await assert.rejects(llm.analyzeChunk?.([{ page: 1, text: 'refused text' }], context({ jobId: 'refused-job' })) ?? Promise.resolve(), { code: 'llm_refused' });
  assert.deepEqual(await store.jobUsage('refused-job'), [{ model: 'test-model', promptTokens: 10, completionTokens: 5, calls: 1, cachedCalls: 0 }]);
});
