// A job's budget as the calls of several processes draw on it: each process has its own
// JobBudgets, all share one analysis store (the deployment's database).
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { JobBudgets } from '../../src/analyzers/llm/budget.ts';
import { answer, type CallScope } from '../../src/analyzers/llm/caller.ts';
import type { ChatModel } from '../../src/analyzers/llm/client.ts';
import type { ModelRequest } from '../../src/analyzers/llm/modes/index.ts';
import { LlmPacer } from '../../src/analyzers/llm/pacer.ts';
import { LocalRateWindow } from '../../src/analyzers/llm/rate-window.ts';
import { NO_USAGE } from '../../src/analyzers/store/port.ts';
import { MemoryAnalysisStore } from '../../src/analyzers/store/memory-analysis-store.ts';
import { RESERVATION_LEASE_MS, SqlAnalysisStore } from '../../src/analyzers/store/sql-analysis-store.ts';
import { openSqliteDatabase } from '../../src/sql/sqlite-database.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';

const signal = new AbortController().signal;

test("a call refused only for another process's call in flight waits for it to settle, then is made", async () => {
  const store = new MemoryAnalysisStore();
  const [worker, other] = [new JobBudgets({ pollMs: 10 }), new JobBudgets()];
  await other.reserve(store, 'job', 60, 100, signal); // its estimate, in flight
  let reserved = false;
  const waiting = worker.reserve(store, 'job', 50, 100, signal).then(() => { reserved = true; });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(reserved, false, 'it waits while the other call is in flight');
  await other.settle(store, 'job', 60, 10); // it spent far less than its estimate
  await waiting; // 10 spent: 50 fits
  await worker.settle(store, 'job', 50, 50);
  // Refused for what was spent: no later call of the job, however small, in any process.
  const ended = await rejectsWithCode(worker.reserve(store, 'job', 41, 100, signal), 'budget_exceeded');
  assert.equal(ended.retryable, false);
  assert.match(ended.message, /the job makes no more model calls/);
  await rejectsWithCode(other.reserve(store, 'job', 1, 100, signal), 'budget_exceeded');
});

test('a call still refused for other processes\' calls in flight, that go on reserving, after the longest wait fails retryably, and the job goes on', async () => {
  const store = new MemoryAnalysisStore();
  const [worker, other] = [new JobBudgets({ pollMs: 10, maxWaitMs: 60 }), new JobBudgets()];
  await other.reserve(store, 'job', 60, 100, signal);
  // The other process's calls are alive: one more reserves while this one waits.
  setTimeout(() => void store.reserve('job', 1, 100), 20);
  const error = await rejectsWithCode(worker.reserve(store, 'job', 50, 100, signal), 'budget_exceeded');
  assert.equal(error.retryable, true, 'the queue tries the call again later');
  assert.ok((error.retryAfterMs ?? 0) > 0);
  assert.match(error.message, /in flight in other workers/);
  await other.settle(store, 'job', 60, 10);
  await store.settle('job', 1, 1);
  await worker.reserve(store, 'job', 50, 100, signal); // the budget was not ended
});

test('a call waiting for room held by a dead worker\'s reservation (never settled) waits for its lease to lapse, then is made, rather than failing', { timeout: 20_000 }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-budgets-'));
  const database = openSqliteDatabase(join(dir, 'ream.db'));
  try {
    const store = await SqlAnalysisStore.open(database.kysely, 'sqlite');
    // Reserved by a worker killed mid-call: its lease runs out 1.5 s from now.
    assert.equal(await store.reserve('job', 95, 100, Date.now() - RESERVATION_LEASE_MS + 1_500), true);
    let calls = 0;
    const model: ChatModel = {
      info: { model: 'm', endpoint: 'http://127.0.0.1:1/v1' },
      complete: () => {
        calls++;
        return Promise.resolve({ text: '{}', promptTokens: 5, completionTokens: 1, finishReason: 'stop' });
      },
    };
    const request: ModelRequest = { name: 'answer', messages: [{ role: 'user', content: 'hello' }], schema: { type: 'object' }, check: () => undefined };
    const scope: CallScope = { signal: AbortSignal.timeout(15_000), store, jobId: 'job', tenantId: 't', usage: { ...NO_USAGE } };
    const started = Date.now();
    // The default longest wait is a minute, of which this call would wait out 1.5 s: shortened
    // here to 0.3 s, so that the lease runs out past it.
    assert.deepEqual(await answer(model, new LlmPacer(), { model: 'm', temperature: 0, maxCompletionTokens: 10, maxRepairs: 0, maxTokens: 100 }, request, scope, new JobBudgets({ maxWaitMs: 300, pollMs: 50 })), {});
    assert.ok(Date.now() - started >= 1_000, `it waited for the lease (${Date.now() - started} ms)`);
    assert.equal(calls, 1);
  } finally {
    await database.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a call waiting for other calls in flight stops when its job is cancelled', async () => {
  const store = new MemoryAnalysisStore();
  const [worker, other] = [new JobBudgets({ pollMs: 10 }), new JobBudgets()];
  await other.reserve(store, 'job', 60, 100, signal);
  const cancel = new AbortController();
  const waiting = worker.reserve(store, 'job', 50, 100, cancel.signal);
  setTimeout(() => cancel.abort(), 30);
  await rejectsWithCode(waiting, 'cancelled');
});

test("a call waiting for this process's calls of its job to settle stops when its own task is cancelled (another document's call goes on)", { timeout: 5_000 }, async () => {
  const store = new MemoryAnalysisStore();
  const budgets = new JobBudgets();
  await budgets.reserve(store, 'job', 60, 100, signal); // another document's call, in flight for long
  const cancel = new AbortController();
  const waiting = budgets.reserve(store, 'job', 50, 100, cancel.signal);
  setTimeout(() => cancel.abort(), 30);
  await rejectsWithCode(waiting, 'cancelled');
  await budgets.settle(store, 'job', 60, 10);
  await budgets.reserve(store, 'job', 50, 100, signal); // the cancelled wait took nothing
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
