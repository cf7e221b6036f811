// The LLM analyzer on each page (row) alone: a failure about one row's answer fails that row; a
// failure that every row would meet (a refused key) is not asked for again row after row.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createLlmAnalyzer } from '../../src/analyzers/llm/index.ts';
import { perPage } from '../../src/analyzers/per-page.ts';
import { pagesIn, startFakeOpenAi, userText, type FakeOpenAi } from '../support/openai-server.ts';

const SECRET = 'sk-per-page-SECRET-77';
const ROWS = 60;
const rows = Array.from({ length: ROWS }, (_, i) => ({ page: i + 1, text: `name: wine ${i + 1}\ngrape: Merlot` }));
const schema = { type: 'object', properties: { grape: { type: 'string' } } };

let server: FakeOpenAi;
before(async () => {
  server = await startFakeOpenAi(() => ({ content: '{}' }));
});
after(() => server.close());

const rowAnalyzer = () => perPage(createLlmAnalyzer({ schema, maxRepairs: 0, provider: { baseURL: server.baseURL, apiKey: SECRET, model: 'm' } }));
const context = () => ({ signal: AbortSignal.timeout(20_000), documentId: 'doc1', chunk: { index: 0, from: 0, to: ROWS } });

test('a refused key fails every row of the batch with analyzer_failed: only the rows asked at once were sent, not every row', async () => {
  server.requests.length = 0;
  server.script(() => ({ status: 401, message: `Incorrect API key provided: ${SECRET}` }));
  const result = await rowAnalyzer().analyzeChunk?.(rows, context());
  const failures = result?.failures ?? [];
  assert.deepEqual(failures.map((failure) => failure.page), rows.map((row) => row.page), 'every row failed, each with its own number');
  assert.ok(failures.every((failure) => failure.code === 'analyzer_failed' && !failure.message.includes(SECRET)));
  // The rows asked at once (16) may each have been sent, and one more as each of the first two
  // refusals came back; none after the third.
  assert.ok(server.requests.length <= 18, `${server.requests.length} calls for ${ROWS} rows`);
});

test('a row the provider refuses alone (a content filter\'s 400) fails alone: the other rows are asked and answered', async () => {
  server.requests.length = 0;
  server.script((request) => (userText(request).includes('wine 3\n')
    ? { status: 400, message: 'The response was filtered due to the prompt triggering content management policy' }
    : { content: JSON.stringify({ values: { grape: 'Merlot' }, sources: { grape: { pages: pagesIn(request), quote: 'Merlot' } } }) }));
  const result = await rowAnalyzer().analyzeChunk?.(rows, context());
  assert.deepEqual(result?.failures?.map((failure) => failure.page), [3]);
  assert.equal(result?.fields.grape?.length, ROWS - 1);
  assert.equal(server.requests.length, ROWS);
});

test('a row whose answer is invalid still fails alone: the other rows are asked and answered', async () => {
  server.requests.length = 0;
  server.script((request) => (userText(request).includes('wine 7\n')
    ? { content: 'not json' }
    : { content: JSON.stringify({ values: { grape: 'Merlot' }, sources: { grape: { pages: pagesIn(request), quote: 'Merlot' } } }) }));
  const result = await rowAnalyzer().analyzeChunk?.(rows, context());
  assert.deepEqual(result?.failures?.map((failure) => [failure.page, failure.code]), [[7, 'llm_invalid_output']]);
  assert.equal(result?.fields.grape?.length, ROWS - 1);
  assert.equal(server.requests.length, ROWS);
});
