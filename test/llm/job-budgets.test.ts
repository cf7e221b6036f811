// A job's budget as the calls of several processes draw on it: each process has its own
// JobBudgets, all share one analysis store (the deployment's database).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JobBudgets } from '../../src/analyzers/llm/budget.ts';
import { MemoryAnalysisStore } from '../../src/analyzers/store/memory-analysis-store.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';

const signal = new AbortController().signal;

test("a call refused only for another process's call in flight fails alone: the job's later calls go on once it settles", async () => {
  const store = new MemoryAnalysisStore();
  const [worker, other] = [new JobBudgets(), new JobBudgets()];
  await other.reserve(store, 'job', 60, 100, signal); // its estimate, in flight
  const alone = await rejectsWithCode(worker.reserve(store, 'job', 50, 100, signal), 'budget_exceeded');
  assert.match(alone.message, /other calls of the job in flight hold the rest of it: this call is not made/);
  assert.doesNotMatch(alone.message, /no more model calls/, 'the job goes on calling');
  await other.settle(store, 'job', 60, 10); // it spent far less than its estimate
  await worker.reserve(store, 'job', 50, 100, signal); // 10 spent: 50 fits
  await worker.settle(store, 'job', 50, 50);
  // Refused for what was spent: no later call of the job, however small, in any process.
  const ended = await rejectsWithCode(worker.reserve(store, 'job', 41, 100, signal), 'budget_exceeded');
  assert.match(ended.message, /the job makes no more model calls/);
  await rejectsWithCode(other.reserve(store, 'job', 1, 100, signal), 'budget_exceeded');
});
