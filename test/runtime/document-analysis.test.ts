// A chunk's analysis failing on its last attempt keeps the pages' text: the pages fail their
// analysis with the code and the attempts, instead of the chunk failing and its text being lost.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Analyzer, AnalyzeContext } from '../../src/analyzers/port.ts';
import { ReamError } from '../../src/errors.ts';
import { analyzeChunk } from '../../src/runtime/document-analysis.ts';

const pages = [{ page: 1, text: 'Party: Acme', source: 'text' as const }, { page: 2, text: 'Total: 12', source: 'text' as const }];
/** An analyzer whose every chunk fails with `thrown`. */
const failing = (thrown: Error): Analyzer => ({ name: 'llm', config: null, analyze: () => Promise.resolve({}), analyzeChunk: () => Promise.reject(thrown) });
const down = failing(ReamError.retryable('llm_unavailable', 'the model provider did not answer: 503'));
const context = (extra: Partial<AnalyzeContext> = {}): AnalyzeContext => ({ signal: new AbortController().signal, chunk: { index: 0, from: 0, to: 2 }, ...extra } as AnalyzeContext);

test('before the last attempt a failure another attempt may cure fails the chunk, to be retried', async () => {
  await assert.rejects(analyzeChunk([down], pages, context()), (error: ReamError) => error.code === 'llm_unavailable');
});

test('on the last attempt it fails each page\'s analysis, with the attempts, and the chunk goes on', async () => {
  const { failures } = await analyzeChunk([down], pages, context({ finalAttempt: 3 }));
  assert.deepEqual(failures.map((failure) => [failure.page, failure.code]), [[1, 'llm_unavailable'], [2, 'llm_unavailable']]);
  assert.match(failures[0]?.message ?? '', /^the llm analysis of page 1 failed: the model provider did not answer: 503 \(after 3 attempts\)$/);
});

test('a cancelled chunk, or a failure that is no analysis\' own, still fails the chunk', async () => {
  const cancelled = new AbortController();
  cancelled.abort();
  await assert.rejects(analyzeChunk([down], pages, context({ finalAttempt: 3, signal: cancelled.signal })));
  await assert.rejects(analyzeChunk([failing(new TypeError('a bug'))], pages, context({ finalAttempt: 3 })), TypeError);
  await assert.rejects(analyzeChunk([failing(ReamError.nonRetryable('analyzer_failed', 'the key was refused: 401'))], pages, context({ finalAttempt: 3 })), (error: ReamError) => error.code === 'analyzer_failed');
});

test('the job\'s token budget spent fails each page\'s analysis with budget_exceeded on any attempt; the budget held by other calls is retried', async () => {
  const { failures } = await analyzeChunk([failing(ReamError.nonRetryable('budget_exceeded', 'the job spent its tokens'))], pages, context());
  assert.deepEqual(failures.map((failure) => [failure.page, failure.code]), [[1, 'budget_exceeded'], [2, 'budget_exceeded']]);
  assert.match(failures[0]?.message ?? '', /^the llm analysis of page 1 failed: the job spent its tokens$/);
  const held = failing(ReamError.retryable('budget_exceeded', 'held by calls in flight'));
  await assert.rejects(analyzeChunk([held], pages, context()), (error: ReamError) => error.code === 'budget_exceeded');
});
