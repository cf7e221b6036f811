import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { JobBudgets } from '../../src/analyzers/llm/budget.ts';
import { createLlmAnalyzer } from '../../src/analyzers/llm/index.ts';
import type { AnalysisStore, AnalyzeContext, Analyzer } from '../../src/analyzers/port.ts';
import { jobStop, runNextStep } from '../../src/cli/llm-flags.ts';
import { builtinPipelines } from '../../src/pipeline/builtin.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import type { DocumentOutput } from '../../src/pipeline/types.ts';
import { makePdf } from '../support/make-pdf.ts';
import { pagesIn, startFakeOpenAi, userText, type FakeOpenAi, type ReceivedRequest } from '../support/openai-server.ts';

const SECRET = 'sk-pipeline-SECRET-7777';
const schema = {
  type: 'object',
  properties: { parties: { type: 'array', items: { type: 'string' } }, total: { type: 'number' } },
  required: ['parties', 'total'],
};
/** Page 1 names the parties, page 3 the total; five pages, chunks of 2 with 1 page of overlap. */
const PAGES = ['Contract between Acme and Globex', 'Terms and conditions', 'The total is 99 EUR', 'Signatures', 'Annex'];

/** Answers like a model that reads the markers: the fields it sees, on the pages it sees them. */
function contractModel(request: ReceivedRequest) {
  const system = request.body.messages[0]?.content ?? '';
  const seen = pagesIn(request);
  if (system.includes('Summarise')) return { content: JSON.stringify({ summary: `pages ${seen.join(',')}` }), promptTokens: 50, completionTokens: 5 };
  if (system.includes('summaries of consecutive parts')) return { content: JSON.stringify({ summary: 'the whole contract' }), promptTokens: 30, completionTokens: 4 };
  const values: Record<string, unknown> = {};
  const sources: Record<string, unknown> = {};
  if (seen.includes(1)) {
    values.parties = ['Acme', 'Globex'];
    sources.parties = { pages: [1], quote: 'between Acme and Globex' };
  }
  if (seen.includes(3)) {
    values.total = 99;
    sources.total = { pages: [3], quote: 'total is 99 EUR' };
  }
  return { content: JSON.stringify({ values, sources }), promptTokens: 100, completionTokens: 10 };
}

let server: FakeOpenAi;
let dir: string;
let ream: Ream;
let pdf: string;
before(async () => {
  server = await startFakeOpenAi(contractModel);
  dir = await mkdtemp(join(tmpdir(), 'ream-llm-'));
  pdf = join(dir, 'contract.pdf');
  await writeFile(pdf, await makePdf({ pages: PAGES }));
  ream = await createReam({
    dataDir: join(dir, 'data'), threads: 1,
    llm: { baseURL: server.baseURL, apiKey: SECRET, model: 'fake-1', prices: { 'fake-1': { prompt: 1, completion: 2 } } },
  });
});
after(async () => {
  await ream.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

async function runJob(options: Record<string, unknown>, files = [pdf]): Promise<{ output: DocumentOutput; jobId: string }> {
  const job = await ream.submit({ pipeline: 'llm', options: { chunkPages: 2, ...options }, files });
  await ream.wait(job.id);
  const outputs: DocumentOutput[] = [];
  for await (const output of ream.results(job.id)) outputs.push(output);
  assert.equal(outputs.length, 1);
  return { output: outputs[0] as DocumentOutput, jobId: job.id };
}

test('extract through the llm pipeline: fields with pages and quotes, overlap found twice kept once, usage in results and job status', async () => {
  server.requests.length = 0;
  const { output, jobId } = await runJob({ schema, prompt: 'Extract the parties and the total' });
  assert.equal(output.status, 'succeeded');
  // Three chunks ([1,2], [3,4], [5]) each sent with one page of context on either side.
  assert.deepEqual(server.requests.map(pagesIn).sort(), [[1, 2, 3], [2, 3, 4, 5], [4, 5]].sort());
  // Page 3 is seen by two chunks; only its owner's answer counts.
  assert.deepEqual(output.fields.total, [{ value: '99', page: 3, pages: [3], quote: 'total is 99 EUR' }]);
  assert.deepEqual(output.fields.parties, [{ value: '["Acme","Globex"]', page: 1, pages: [1], quote: 'between Acme and Globex' }]);
  assert.deepEqual((output.analysis?.llm as { values: unknown }).values, { parties: ['Acme', 'Globex'], total: 99 });
  assert.deepEqual(output.pages.map((page) => page.page), [1, 2, 3, 4, 5], 'overlap pages are not stored twice');
  assert.deepEqual(output.usage, { promptTokens: 300, completionTokens: 30, calls: 3, cachedCalls: 0 });
  const view = await ream.jobView((await ream.getJob(jobId))!);
  assert.equal(view.usage?.totalTokens, 330);
  assert.equal(view.usage?.costUsd, (300 * 1 + 30 * 2) / 1e6);
  assert.deepEqual((await ream.usage({ tenantId: 'local' })).map((row) => row.model), ['fake-1']);

  // The same document again, in a new job: answered from the cache, no call.
  server.requests.length = 0;
  const again = await runJob({ schema, prompt: 'Extract the parties and the total' });
  assert.equal(server.requests.length, 0);
  assert.deepEqual(again.output.analysis, output.analysis);
  assert.deepEqual(again.output.usage, { promptTokens: 0, completionTokens: 0, calls: 0, cachedCalls: 3 });

  // Nothing stored or published carries the key.
  const events = await ream.listEvents(jobId, 0, 1000);
  const stored = JSON.stringify([await ream.getJob(jobId), events, output, view]);
  assert.doesNotMatch(stored, /SECRET/);
  assert.match(stored, /fake-1/);
});

test('summarize: a summary per chunk (map), then one from the chunk summaries (reduce)', async () => {
  server.requests.length = 0;
  const { output } = await runJob({ mode: 'summarize', overlapPages: 0 });
  assert.equal(server.requests.length, 4, 'three chunks and one reduce');
  const reduce = server.requests.find((request) => userText(request).includes('Pages 1–2:'));
  assert.ok(reduce, 'the reduce prompt lists the chunk summaries by page range');
  assert.match(userText(reduce), /Pages 3–4:\npages 3,4/);
  assert.equal((output.analysis?.llm as { summary: string }).summary, 'the whole contract');
  assert.deepEqual(output.fields.summary, [{ value: 'the whole contract', page: 1 }]);
  assert.equal(output.usage?.calls, 4);
});

test('a per-job budget stops model calls with budget_exceeded', async () => {
  server.requests.length = 0;
  const { output, jobId } = await runJob({ mode: 'summarize', overlapPages: 0, chunkPages: 5, maxTokens: 50, maxCompletionTokens: 40 });
  assert.equal(server.requests.length, 0, 'no call fits the budget');
  // The pages were read: they keep their text, and only their analysis fails.
  assert.equal(output.status, 'partially_succeeded');
  assert.deepEqual(output.pages.map((page) => page.text.trim()), PAGES);
  assert.deepEqual(output.failedPages.map((failure) => [failure.page, failure.code]), PAGES.map((_, index) => [index + 1, 'budget_exceeded']));
  assert.match(output.failedPages[0]?.message ?? '', /no more model calls/, 'the page says why it was not analysed');
  const job = await ream.getJob(jobId);
  assert.equal(job?.status, 'partially_succeeded');
  // The job itself says why it stopped: its budget, and what it spent (nothing here).
  assert.deepEqual(job?.error, {
    code: 'budget_exceeded', retryable: false, details: { maxTokens: 50, spentTokens: 0, reason: 'spent' },
    message: 'the job\'s token budget (maxTokens 50) stopped its model calls with 0 tokens used: a call\'s estimate did not fit in what was left, and no later call was made, so part of its analysis is missing (pages whose analysis failed with budget_exceeded keep their text; a document-level answer not asked is marked analysis_incomplete); a retry asks the model nothing more: to analyse the rest, submit its documents again with a larger maxTokens (the answers already given come from the cache)',
  });
  const view = await ream.jobView(job);
  assert.equal(view.error?.code, 'budget_exceeded');
  const ended = (await ream.listEvents(jobId, 0, 1000)).find((event) => event.type === 'job.completed');
  assert.equal(ended?.error?.code, 'budget_exceeded', 'job.completed (and its webhook) says so too');
});

test('a chunk whose call would overspend what the budget has left is asked about in parts that fit, and only the pages left unasked fail', async () => {
  server.requests.length = 0;
  // The five pages at once are estimated at about 175 tokens, pages 1–3 at about 164, pages 4–5
  // at about 146 and one page at about 143; a call spends 55. With 170: pages 1–3 are answered,
  // then 115 are left, which neither pages 4–5 nor page 4 alone fits.
  const { output, jobId } = await runJob({ mode: 'summarize', overlapPages: 0, chunkPages: 5, maxTokens: 170, maxCompletionTokens: 40 });
  assert.deepEqual(server.requests.map(pagesIn), [[1, 2, 3]]);
  assert.equal(output.status, 'partially_succeeded');
  assert.deepEqual(output.pages.map((page) => page.text.trim()), PAGES);
  assert.equal((output.analysis?.llm as { summary: string }).summary, 'pages 1,2,3');
  assert.deepEqual(output.failedPages.map((failure) => [failure.page, failure.code]), [[4, 'budget_exceeded'], [5, 'budget_exceeded']]);
  assert.match(output.failedPages[0]?.message ?? '', /^the llm analysis of page 4 failed: .*no more model calls/);
  assert.deepEqual(output.usage, { promptTokens: 50, completionTokens: 5, calls: 1, cachedCalls: 0 });
  const job = await ream.getJob(jobId);
  assert.equal(job?.status, 'partially_succeeded');
  assert.deepEqual(job?.error?.details, { maxTokens: 170, spentTokens: 55, reason: 'spent' });

  // A retry cannot raise the budget: it asks the model nothing, and the job says what to do instead.
  server.requests.length = 0;
  await ream.retry(jobId);
  await ream.wait(jobId);
  assert.equal(server.requests.length, 0);
  const retried = await ream.getJob(jobId);
  assert.equal(retried?.status, 'partially_succeeded');
  assert.deepEqual(retried?.error?.details, { maxTokens: 170, spentTokens: 55, reason: 'spent' });
  assert.match(retried?.error?.message ?? '', /a retry asks the model nothing more: to analyse the rest, submit its documents again with a larger maxTokens/);

  // Submitted again with a larger budget: pages 1–3 are answered from the cache, and only pages 4–5
  // are asked about (not the whole chunk, pages 1–3 paid for twice); the parts' summaries are then
  // summarised into one, as the chunk asked about at once is.
  server.requests.length = 0;
  const again = await runJob({ mode: 'summarize', overlapPages: 0, chunkPages: 5, maxTokens: 1000, maxCompletionTokens: 40 });
  assert.deepEqual(server.requests.map(pagesIn), [[4, 5], []]);
  assert.match(userText(server.requests[1] as ReceivedRequest), /^Pages 1–3:\npages 1,2,3\n\nPages 4–5:\npages 4,5$/);
  assert.equal(again.output.status, 'succeeded');
  assert.equal((again.output.analysis?.llm as { summary: string }).summary, 'the whole contract');
  assert.deepEqual(again.output.fields.summary, [{ value: 'the whole contract', page: 1 }]);
  assert.deepEqual(again.output.usage, { promptTokens: 80, completionTokens: 9, calls: 2, cachedCalls: 1 });
  // Once more: the same answer, every call from the cache.
  server.requests.length = 0;
  const third = await runJob({ mode: 'summarize', overlapPages: 0, chunkPages: 5, maxTokens: 1000, maxCompletionTokens: 40 });
  assert.equal(server.requests.length, 0);
  assert.deepEqual(third.output.analysis?.llm, again.output.analysis?.llm);
  assert.deepEqual(third.output.usage, { promptTokens: 0, completionTokens: 0, calls: 0, cachedCalls: 3 });
});

test('a budget spent after some chunks keeps the document: every page its text, the answered chunk its fields, the others budget_exceeded', async () => {
  server.requests.length = 0;
  // A call is reserved at about 240 tokens and spends 110: the first fits 300, and the next no longer does.
  const { output, jobId } = await runJob({ schema, prompt: 'Extract the parties and the total', overlapPages: 0, maxTokens: 300, maxCompletionTokens: 40 });
  assert.equal(server.requests.length, 1, 'one call, then the job makes no more');
  const answered = pagesIn(server.requests[0]!);
  assert.equal(output.status, 'partially_succeeded');
  assert.deepEqual(output.pages.map((page) => page.text.trim()), PAGES, 'every page keeps the text that was read');
  const failed = PAGES.map((_, index) => index + 1).filter((page) => !answered.includes(page));
  assert.deepEqual(output.failedPages.map((failure) => [failure.page, failure.code]), failed.map((page) => [page, 'budget_exceeded']));
  assert.deepEqual(output.usage, { promptTokens: 100, completionTokens: 10, calls: 1, cachedCalls: 0 });
  if (answered.includes(1)) assert.deepEqual(output.fields.parties?.map((field) => field.page), [1], 'the answered chunk keeps its fields');
  if (answered.includes(3)) assert.deepEqual(output.fields.total?.map((field) => field.page), [3], 'the answered chunk keeps its fields');
  const job = await ream.getJob(jobId);
  assert.equal(job?.status, 'partially_succeeded');
  assert.equal(job?.error?.code, 'budget_exceeded');
  assert.deepEqual(job?.error?.details, { maxTokens: 300, spentTokens: 110, reason: 'spent' });
  assert.match(job?.error?.message ?? '', /maxTokens 300\) stopped its model calls with 110 tokens used/);
});

test('a budget spent by the chunks leaves the summary of the chunks combined as they are, with an analysis_incomplete warning', async () => {
  server.requests.length = 0;
  // Each chunk's call is reserved at about 140 tokens and spends 55: the three fit 300, the reduce (about 177) no longer does.
  const { output, jobId } = await runJob({ mode: 'summarize', prompt: 'In one line', overlapPages: 0, maxTokens: 300, maxCompletionTokens: 40 });
  assert.equal(server.requests.length, 3, 'the chunks are answered, the reduce is not asked');
  assert.equal(output.status, 'partially_succeeded');
  assert.deepEqual(output.pages.map((page) => page.text.trim()), PAGES);
  assert.deepEqual(output.failedPages, []);
  assert.deepEqual(output.warnings?.map((warning) => warning.code), ['analysis_incomplete']);
  assert.match(output.warnings?.[0]?.message ?? '', /budget_exceeded/);
  assert.match((output.analysis?.llm as { summary: string }).summary, /pages 1,2/, 'the chunks\' summaries, combined');
  assert.equal((await ream.getJob(jobId))?.error?.code, 'budget_exceeded', 'the job says its document-level answer was cut by the budget');
});

test('calls still refused on their task\'s last attempt while other workers\' calls of the job hold its budget end the job with budget_exceeded, chunks and document step alike', async () => {
  const provider = { baseURL: server.baseURL, apiKey: SECRET, model: 'fake-1' };
  // Waits of milliseconds for room in the budget, where a worker waits a minute.
  const inner = createLlmAnalyzer({ mode: 'summarize', provider, maxTokens: 1000, maxCompletionTokens: 40, budgets: new JobBudgets({ maxWaitMs: 50, pollMs: 10 }) });
  const keepAlive: NodeJS.Timeout[] = [];
  /** Another worker's calls of the job, in flight: they hold all but 10 of what its 1000 tokens leave, and go on reserving. */
  const holdBudget = async (context: AnalyzeContext): Promise<void> => {
    const store = context.store as AnalysisStore;
    const jobId = context.jobId ?? '';
    if (!(await store.reserve(jobId, (await store.budgetLeft(jobId, 1000)) - 10, 1000))) return; // held already
    keepAlive.push(setInterval(() => void store.reserve(jobId, 0, 1000), 5));
  };
  const held: Analyzer = {
    ...inner,
    analyzeChunk: async (pages, context) => {
      await holdBudget(context);
      return inner.analyzeChunk!(pages, context);
    },
  };
  const reduceHeld: Analyzer = {
    ...inner,
    finish: async (chunks, merged, context) => {
      await holdBudget(context);
      return inner.finish!(chunks, merged, context);
    },
  };
  const own = await createReam({
    dataDir: join(dir, 'held-budget'), threads: 1, maxAttempts: 1,
    pipelines: {
      held: (options) => ({ ...builtinPipelines.extract!(options), name: 'held', chunkPages: 5, analyzers: [held] }),
      reduceHeld: (options) => ({ ...builtinPipelines.extract!(options), name: 'reduceHeld', chunkPages: 2, analyzers: [reduceHeld] }),
    },
  });
  const run = async (pipeline: string) => {
    const job = await own.submit({ pipeline, files: [pdf] });
    await own.wait(job.id);
    const outputs: DocumentOutput[] = [];
    for await (const output of own.results(job.id)) outputs.push(output);
    return { output: outputs[0] as DocumentOutput, job: await own.getJob(job.id) };
  };
  try {
    server.requests.length = 0;
    const chunks = await run('held');
    assert.equal(server.requests.length, 0);
    assert.equal(chunks.output.status, 'partially_succeeded');
    assert.deepEqual(chunks.output.pages.map((page) => page.text.trim()), PAGES);
    assert.deepEqual(chunks.output.failedPages.map((failure) => failure.code), PAGES.map(() => 'budget_exceeded'));
    assert.match(chunks.output.failedPages[0]?.message ?? '', /in flight in other workers.*\(after 1 attempts\)$/);
    assert.equal(chunks.job?.status, 'partially_succeeded');
    assert.equal(chunks.job?.error?.code, 'budget_exceeded');
    assert.deepEqual(chunks.job?.error?.details, { maxTokens: 1000, spentTokens: 0, reason: 'held' });
    // Its budget is not spent: ream run's summary says that a retry asks about the failed files again.
    assert.match(runNextStep(chunks.job && jobStop(chunks.job)), /^its token budget is not spent .*add --retry-failed to the same command/);
    assert.match(chunks.job?.error?.message ?? '', /^the job's token budget \(maxTokens 1000\) stopped some of its model calls with 0 tokens used: calls were still refused on their last attempt while the job's other calls in flight held the rest/);

    // The chunks answered, the document step held: the chunks' answers combined, the text kept.
    server.requests.length = 0;
    const reduce = await run('reduceHeld');
    assert.equal(server.requests.length, 3, 'the three chunks, not the reduce');
    assert.equal(reduce.output.status, 'partially_succeeded');
    assert.deepEqual(reduce.output.pages.map((page) => page.text.trim()), PAGES);
    assert.deepEqual(reduce.output.warnings?.map((warning) => warning.code), ['analysis_incomplete']);
    assert.match((reduce.output.analysis?.llm as { summary: string }).summary, /pages 1,2/);
    assert.equal(reduce.job?.status, 'partially_succeeded');
    assert.equal(reduce.job?.error?.code, 'budget_exceeded');
  } finally {
    for (const timer of keepAlive) clearInterval(timer);
    await own.close();
  }
});

test('a retry forgets that calls were refused while other calls held the budget: a retried job ending partial for another reason has no budget error', async () => {
  const provider = { baseURL: server.baseURL, apiKey: SECRET, model: 'fake-1' };
  const inner = createLlmAnalyzer({ mode: 'summarize', provider, maxTokens: 1000, maxCompletionTokens: 40, budgets: new JobBudgets({ maxWaitMs: 50, pollMs: 10 }) });
  let holding = true;
  let held = 0;
  let budgets: AnalysisStore | undefined;
  const keepAlive: NodeJS.Timeout[] = [];
  const analyzer: Analyzer = {
    ...inner,
    analyzeChunk: async (pages, context) => {
      const store = context.store as AnalysisStore;
      budgets = store;
      const jobId = context.jobId ?? '';
      // Another worker's calls of the job hold all but 10 of its 1000 tokens, on the first run only.
      if (holding && held === 0 && (await store.reserve(jobId, 990, 1000))) {
        held = 990;
        keepAlive.push(setInterval(() => void store.reserve(jobId, 0, 1000), 5));
      }
      return inner.analyzeChunk!(pages, context);
    },
  };
  const own = await createReam({
    dataDir: join(dir, 'held-then-retried'), threads: 1, maxAttempts: 1,
    pipelines: { held: (options) => ({ ...builtinPipelines.extract!(options), name: 'held', chunkPages: 5, analyzers: [analyzer] }) },
  });
  try {
    const job = await own.submit({ pipeline: 'held', files: [pdf] });
    await own.wait(job.id);
    assert.match((await own.getJob(job.id))?.error?.message ?? '', /stopped some of its model calls/);
    // The other calls settle (spending nothing); on the retry the model refuses the chunk.
    holding = false;
    for (const timer of keepAlive) clearInterval(timer);
    await budgets?.settle(job.id, held, 0);
    server.script(() => ({ refusal: 'I will not read this.' }));
    server.requests.length = 0;
    await own.retry(job.id);
    await own.wait(job.id);
    assert.equal(server.requests.length, 1, 'the retry asks the model again');
    const outputs: DocumentOutput[] = [];
    for await (const output of own.results(job.id)) outputs.push(output);
    assert.deepEqual(outputs[0]?.failedPages.map((failure) => failure.code), PAGES.map(() => 'llm_refused'));
    const retried = await own.getJob(job.id);
    assert.equal(retried?.status, 'partially_succeeded');
    assert.equal(retried?.error, null, 'no call of the retry was stopped by the budget');
  } finally {
    for (const timer of keepAlive) clearInterval(timer);
    server.script(contractModel);
    await own.close();
  }
});

test('bad llm options are refused at submit', async () => {
  await assert.rejects(ream.submit({ pipeline: 'llm', options: { mode: 'classify', labels: ['only'] }, files: [pdf] }), { code: 'validation_failed' });
  await assert.rejects(ream.submit({ pipeline: 'llm', options: { schema, apiKey: 'x' }, files: [pdf] }), { code: 'validation_failed' });
});

test('two model analyzers in one pipeline keep their own answers and usage, each under its name; two of one name are refused', async () => {
  const provider = { baseURL: server.baseURL, apiKey: SECRET, model: 'fake-1' };
  const own = await createReam({
    dataDir: join(dir, 'two-analyzers'), threads: 1,
    pipelines: {
      both: (options) => ({
        ...builtinPipelines.extract!(options),
        name: 'both',
        analyzers: [createLlmAnalyzer({ name: 'contract', schema, provider }), createLlmAnalyzer({ name: 'gist', mode: 'summarize', provider })],
        chunkPages: 5,
      }),
      clash: (options) => ({ ...builtinPipelines.extract!(options), name: 'clash', analyzers: [createLlmAnalyzer({ schema, provider }), createLlmAnalyzer({ mode: 'summarize', provider })] }),
      // Names that are properties of every plain object.
      odd: (options) => ({
        ...builtinPipelines.extract!(options), name: 'odd', chunkPages: 5,
        analyzers: [createLlmAnalyzer({ name: 'constructor', mode: 'summarize', provider }), createLlmAnalyzer({ name: '__proto__', mode: 'summarize', provider, maxCompletionTokens: 50 })],
      }),
    },
  });
  try {
    server.requests.length = 0;
    const job = await own.submit({ pipeline: 'both', files: [pdf] });
    await own.wait(job.id);
    const outputs: DocumentOutput[] = [];
    for await (const output of own.results(job.id)) outputs.push(output);
    const [output] = outputs;
    assert.equal(output?.status, 'succeeded');
    assert.deepEqual(output?.fields.parties?.map((match) => match.value), ['["Acme","Globex"]']);
    assert.equal((output?.analysis?.gist as { summary: string }).summary, 'pages 1,2,3,4,5');
    assert.ok(output?.analysis?.contract, 'the extract answer kept beside the summary');
    assert.equal(output?.usage?.calls, server.requests.length, 'every call counted');
    assert.equal(server.requests.length, 2);
    await assert.rejects(own.submit({ pipeline: 'clash', files: [pdf] }), { code: 'validation_failed', message: /two analyzers named "llm"/ });
    const odd = await own.submit({ pipeline: 'odd', files: [pdf] });
    await own.wait(odd.id);
    const oddOutputs: DocumentOutput[] = [];
    for await (const output of own.results(odd.id)) oddOutputs.push(output);
    assert.equal(oddOutputs[0]?.status, 'succeeded', JSON.stringify(oddOutputs[0]?.error));
    assert.deepEqual(Object.keys(oddOutputs[0]?.analysis ?? {}).sort(), ['__proto__', 'constructor']);
  } finally {
    await own.close();
  }
});

test('a chunk the model refuses keeps its text: its pages fail their analysis (llm_refused), the other chunks\' fields stand', async () => {
  server.script((request) => (pagesIn(request).includes(3) ? { refusal: 'I will not read this part.' } : contractModel(request)));
  try {
    const { output } = await runJob({ schema, overlapPages: 0 });
    assert.equal(output.status, 'partially_succeeded');
    assert.deepEqual(output.failedPages.map((failure) => [failure.page, failure.code]), [[3, 'llm_refused'], [4, 'llm_refused']]);
    assert.match(output.failedPages[0]?.message ?? '', /analysis of page 3 failed/);
    assert.deepEqual(output.pages.map((page) => page.page), [1, 2, 3, 4, 5], 'every page\'s text kept');
    assert.match(output.pages[2]?.text ?? '', /total is 99 EUR/);
    assert.deepEqual(output.fields.parties?.map((match) => match.page), [1]);
  } finally {
    server.script(contractModel);
  }
});

test('a reduce prompt the model refuses: the chunks\' summaries stand, combined, and the document says so (analysis_incomplete)', async () => {
  server.script((request) => ((request.body.messages[0]?.content ?? '').includes('summaries of consecutive parts') ? { refusal: 'no summary of summaries' } : contractModel(request)));
  try {
    // Its own answer length: no answer of an earlier test comes from the cache.
    const { output } = await runJob({ mode: 'summarize', overlapPages: 0, maxCompletionTokens: 77 });
    assert.equal(output.status, 'partially_succeeded');
    assert.deepEqual(output.warnings?.map((warning) => [warning.page, warning.code]), [[1, 'analysis_incomplete']]);
    assert.match((output.analysis?.llm as { summary: string }).summary, /pages 1,2[\s\S]*pages 3,4[\s\S]*pages 5/);
    assert.deepEqual(output.pages.map((page) => page.page), [1, 2, 3, 4, 5]);
  } finally {
    server.script(contractModel);
  }
});

test('deleting a document forgets the model\'s answers about it: the same bytes stored again are asked about again', async () => {
  const copy = join(dir, 'forgotten.pdf');
  await writeFile(copy, await makePdf({ pages: ['Contract between Acme and Globex, to be forgotten'] }));
  const first = await runJob({ mode: 'summarize', overlapPages: 0 }, [copy]);
  assert.equal(first.output.status, 'succeeded');
  server.requests.length = 0;
  const cached = await runJob({ mode: 'summarize', overlapPages: 0 }, [copy]);
  assert.equal(server.requests.length, 0, 'answered from the cache');
  await ream.deleteDocument(cached.output.documentId);
  const again = await runJob({ mode: 'summarize', overlapPages: 0 }, [copy]);
  assert.equal(again.output.status, 'succeeded');
  assert.ok(server.requests.length > 0, 'asked again: nothing kept of the deleted document');
});
