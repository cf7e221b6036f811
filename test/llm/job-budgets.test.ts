// A job's budget as the calls of several processes draw on it: each process has its own
// JobBudgets, all share one analysis store (the deployment's database).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JobBudgets } from '../../src/analyzers/llm/budget.ts';
import { answer, type CallScope } from '../../src/analyzers/llm/caller.ts';
import { createLlmAnalyzer, createLlmClient, llmSettingsFromEnv } from '../../src/analyzers/llm/index.ts';
import type { ChatAnswer, ChatModel } from '../../src/analyzers/llm/client.ts';
import type { ModelRequest } from '../../src/analyzers/llm/modes/index.ts';
import { LlmPacer } from '../../src/analyzers/llm/pacer.ts';
import { LocalRateWindow } from '../../src/analyzers/llm/rate-window.ts';
import { messagesTokens } from '../../src/analyzers/llm/prompts.ts';
import { NO_USAGE, type AnalysisStore } from '../../src/analyzers/store/port.ts';
import { MemoryAnalysisStore } from '../../src/analyzers/store/memory-analysis-store.ts';
import { RESERVATION_LEASE_MS, SqlAnalysisStore } from '../../src/analyzers/store/sql-analysis-store.ts';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';

const signal = new AbortController().signal;

const request: ModelRequest = { name: 'answer', messages: [{ role: 'user', content: 'hello' }], schema: { type: 'object' }, check: () => undefined };
/** What a call of {@link request} sets aside: its prompt and its answer's cap (10). */
const ESTIMATE = messagesTokens(request.messages) + 10;
/** What a call spends: 5 + 1 tokens. */
const SPENT = 6;

/** A model that answers `{}` for 6 tokens, after `gate` opens when one is given. */
function fakeModel(gate?: Promise<void>): ChatModel & { calls: number } {
  const model = {
    calls: 0,
    info: { model: 'm', endpoint: 'http://127.0.0.1:1/v1' },
    complete: async (): Promise<ChatAnswer> => {
      model.calls++;
      await gate;
      return { text: '{}', promptTokens: 5, completionTokens: 1, finishReason: 'stop' };
    },
  };
  return model;
}

/** One model call of `jobId` in this process, as an analyzer makes it (paced, within `maxTokens`). */
function call(store: AnalysisStore, model: ChatModel, maxTokens: number, budgets: JobBudgets, options: { signal?: AbortSignal; pacer?: LlmPacer } = {}): Promise<unknown> {
  const scope: CallScope = { signal: options.signal ?? signal, store, jobId: 'job', tenantId: 't', usage: { ...NO_USAGE } };
  // A schema of its own: each call is a new question, never answered from the cache.
  const asked: ModelRequest = { ...request, schema: { type: 'object', description: `question ${++questions}` } };
  return answer(model, options.pacer ?? new LlmPacer(), { model: 'm', temperature: 0, maxCompletionTokens: 10, maxRepairs: 0, maxTokens }, asked, scope, budgets);
}
let questions = 0;

test("a call refused only for another process's call in flight waits for it to settle, then is made", async () => {
  const store = new MemoryAnalysisStore();
  const budget = ESTIMATE + 60;
  const model = fakeModel();
  const budgets = new JobBudgets({ pollMs: 10 });
  assert.equal(await store.reserve('job', 61, budget), true); // another process's call: its estimate, in flight
  let answered = false;
  const waiting = call(store, model, budget, budgets).then(() => { answered = true; });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(answered, false, 'it waits while the other call is in flight');
  assert.equal(model.calls, 0);
  await store.settle('job', 61, 10); // it spent far less than its estimate
  await waiting; // 10 spent: the call fits
  assert.equal(model.calls, 1);
  // Refused for what was spent: no later call of the job, however small, in any process.
  await store.settle('job', 0, budget - 10 - SPENT - ESTIMATE + 1);
  const ended = await rejectsWithCode(call(store, model, budget, budgets), 'budget_exceeded');
  assert.equal(ended.retryable, false);
  assert.match(ended.message, /the job makes no more model calls/);
  assert.equal(await store.reserve('job', 1, budget), false);
  assert.equal(model.calls, 1);
});

test('a call still refused for other processes\' calls in flight, that go on reserving, after the longest wait fails retryably, and the job goes on', async () => {
  const store = new MemoryAnalysisStore();
  const budget = ESTIMATE + 60;
  const model = fakeModel();
  const budgets = new JobBudgets({ pollMs: 10, maxWaitMs: 60 });
  assert.equal(await store.reserve('job', 61, budget), true);
  // The other process's calls are alive: one more reserves while this one waits.
  setTimeout(() => void store.reserve('job', 1, budget), 20);
  const error = await rejectsWithCode(call(store, model, budget, budgets), 'budget_exceeded');
  assert.equal(error.retryable, true, 'the queue tries the call again later');
  assert.ok((error.retryAfterMs ?? 0) > 0);
  assert.match(error.message, /in flight in other workers/);
  await store.settle('job', 61, 10);
  await store.settle('job', 1, 1);
  await call(store, model, budget, budgets); // the budget was not ended
  assert.equal(model.calls, 1);
});

test('the longest wait for room held by other workers\' calls is a setting (budgetWaitMs, REAM_LLM_BUDGET_WAIT_MS), refused when it is not a whole number of ms up to 600,000', { timeout: 30_000 }, async () => {
  const settings = llmSettingsFromEnv({ REAM_LLM_MODEL: 'm', REAM_LLM_BUDGET_WAIT_MS: '50' });
  assert.equal(settings?.budgetWaitMs, 50);
  for (const bad of ['abc', '-1', '1.5', '600001', '1e3']) {
    const error = await rejectsWithCode(Promise.resolve().then(() => llmSettingsFromEnv({ REAM_LLM_MODEL: 'm', REAM_LLM_BUDGET_WAIT_MS: bad })), 'validation_failed');
    assert.match(error.message, /^REAM_LLM_BUDGET_WAIT_MS must be a whole number of milliseconds from 0 to 600000/);
  }
  assert.throws(() => createLlmClient({ model: 'm', budgetWaitMs: -5 }), { code: 'validation_failed', message: /budgetWaitMs/ });
  // The value refused is shown as it is: not `null` for a number JSON cannot write.
  assert.throws(() => llmSettingsFromEnv({ REAM_LLM_MODEL: 'm', REAM_LLM_BUDGET_WAIT_MS: '9'.repeat(400) }), { code: 'validation_failed', message: /, not Infinity$/ });
  assert.throws(() => createLlmClient({ model: 'm', budgetWaitMs: Number.NaN }), { code: 'validation_failed', message: /, not NaN$/ });
  // The analyzer's calls wait that long, not the 60 s of the process's default.
  const store = new MemoryAnalysisStore();
  const model = fakeModel();
  const client = createLlmClient({ ...(settings ?? { model: 'm' }), baseURL: 'http://127.0.0.1:1/v1' }, { model });
  const llm = createLlmAnalyzer({ mode: 'summarize', client, maxTokens: 1000, budgets: new JobBudgets({ pollMs: 10 }) });
  assert.equal(await store.reserve('waits', 990, 1000), true); // another worker's call in flight
  const reserving = setInterval(() => void store.reserve('waits', 1, 1000), 10); // whose calls go on
  try {
    const error = await rejectsWithCode(llm.analyzeChunk?.([{ page: 1, text: 'some words' }], { signal, documentId: 'd', jobId: 'waits', store }) ?? Promise.resolve(), 'budget_exceeded');
    assert.equal(error.retryable, true);
  } finally {
    clearInterval(reserving);
  }
  assert.equal(model.calls, 0);
});

test('a call waiting for room held by a dead worker\'s reservation (never settled) waits for its lease to lapse, then is made, rather than failing', { timeout: 20_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-budgets-'));
  const database = openSqliteDatabase(join(dir, 'ream.db'));
  try {
    const store = await SqlAnalysisStore.open(database.kysely, 'sqlite');
    // Reserved by a worker killed mid-call: its lease runs out 1.5 s from now.
    assert.equal(await store.reserve('job', 95, 100, Date.now() - RESERVATION_LEASE_MS + 1_500), true);
    const model = fakeModel();
    const started = Date.now();
    // The default longest wait is a minute, of which this call would wait out 1.5 s: shortened
    // here to 0.3 s, so that the lease runs out past it.
    assert.deepEqual(await call(store, model, 100, new JobBudgets({ maxWaitMs: 300, pollMs: 50 })), {});
    assert.ok(Date.now() - started >= 1_000, `it waited for the lease (${Date.now() - started} ms)`);
    assert.equal(model.calls, 1);
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a call waiting for other calls in flight stops when its job is cancelled', async () => {
  const store = new MemoryAnalysisStore();
  const budget = ESTIMATE + 60;
  assert.equal(await store.reserve('job', 61, budget), true);
  const cancel = new AbortController();
  const waiting = call(store, fakeModel(), budget, new JobBudgets({ pollMs: 10 }), { signal: cancel.signal });
  setTimeout(() => cancel.abort(), 30);
  await rejectsWithCode(waiting, 'cancelled');
});

test("a call waiting for this process's calls of its job to settle stops when its own task is cancelled (another document's call goes on)", { timeout: 5_000 }, async () => {
  const store = new MemoryAnalysisStore();
  const budget = ESTIMATE + SPENT; // one call in flight at a time
  const budgets = new JobBudgets();
  const pacer = new LlmPacer();
  let open = (): void => undefined;
  const slow = fakeModel(new Promise<void>((resolve) => { open = resolve; }));
  const inFlight = call(store, slow, budget, budgets, { pacer }); // another document's call, in flight for long
  await new Promise((resolve) => setTimeout(resolve, 20));
  const cancel = new AbortController();
  const waiting = call(store, fakeModel(), budget, budgets, { pacer, signal: cancel.signal });
  setTimeout(() => cancel.abort(), 30);
  await rejectsWithCode(waiting, 'cancelled');
  open();
  await inFlight;
  const model = fakeModel();
  await call(store, model, budget, budgets, { pacer }); // the cancelled wait took nothing
  assert.equal(model.calls, 1);
});

test('a call waiting for room in its job\'s budget holds no concurrency slot: another job\'s call is made meanwhile', async () => {
  const store = new MemoryAnalysisStore();
  const window = new CountingWindow();
  const pacer = new LlmPacer({ maxConcurrency: 1, window });
  let calls = 0;
  const model: ChatModel = {
    info: { model: 'm', endpoint: 'http://127.0.0.1:1/v1' },
    complete: () => {
      calls++;
      return Promise.resolve({ text: '{}', promptTokens: 5, completionTokens: 1, finishReason: 'stop' });
    },
  };
  const request: ModelRequest = { name: 'answer', messages: [{ role: 'user', content: 'hello' }], schema: { type: 'object' }, check: () => undefined };
  const scope = (jobId: string): CallScope => ({ signal: AbortSignal.timeout(20_000), store, jobId, tenantId: 't', usage: { ...NO_USAGE } });
  const parameters = { model: 'm', temperature: 0, maxCompletionTokens: 10, maxRepairs: 0 };
  await store.reserve('held', 95, 100); // another worker's call of the job, in flight
  let answered = false;
  const waiting = answer(model, pacer, { ...parameters, maxTokens: 100 }, request, scope('held')).then(() => { answered = true; });
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = Date.now();
  await answer(model, pacer, parameters, { ...request, name: 'other' }, scope('other'));
  assert.ok(Date.now() - started < 1_000, 'the other job\'s call did not wait for the slot');
  assert.equal(answered, false, 'the first call still waits for its budget');
  await store.settle('held', 95, 0); // the other worker's call settled
  await waiting;
  assert.equal(calls, 2);
  assert.ok(window.given > 0, 'the waiting call gave its turns up');
  assert.equal(window.granted - window.given, calls, 'the window counts the calls made, not the turns given up');
  assert.equal(pacer.limit, 1);
});

/** A window without limits that counts the turns it granted and those given back. */
class CountingWindow extends LocalRateWindow {
  granted = 0;
  given = 0;

  constructor() {
    super({});
  }

  override async tryAcquire(tokens: number, id?: string): Promise<number> {
    const wait = await super.tryAcquire(tokens, id);
    if (wait === 0) this.granted++;
    return wait;
  }

  override async giveBack(id: string): Promise<void> {
    this.given++;
    await super.giveBack(id);
  }
}
