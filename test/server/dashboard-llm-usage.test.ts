// An LLM job's tokens and cost on its page, in Chromium: prompt and completion apart (they are
// priced apart), the calls, and a cost of a small job in figures that are not all zeros.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { makePdf } from '../support/make-pdf.ts';
import { startFakeOpenAi, type FakeOpenAi } from '../support/openai-server.ts';
import { useConsole } from '../support/console-browser.ts';

const WAIT_MS = 30_000;

const con = useConsole('dashboard-llm-usage', { serve: false });
let model: FakeOpenAi;

con.before(async () => {
  model = await startFakeOpenAi(() => ({ content: JSON.stringify({ answer: 'yes', pages: [1], quote: 'INVOICE' }), promptTokens: 1234, completionTokens: 56 }));
});

void test('console: an LLM job shows its prompt and completion tokens, its calls and a small cost in figures', { timeout: 90_000 }, async (t) => {
  t.after(() => model.close());
  const page = await con.page(t);
  if (!page) return;
  // $0.15 per million prompt tokens, $0.60 per million completion tokens (a small model's prices).
  const { server } = await con.serve('data', { llm: { baseURL: model.baseURL, apiKey: 'sk-console-SECRET', model: 'small', prices: { small: { prompt: 0.15, completion: 0.6 } } } });
  const client = new ReamClient({ baseUrl: server.url });
  const job = await client.submit({ pipeline: 'llm', options: { mode: 'ask', question: 'Is it an invoice?' }, files: [{ name: 'invoice.pdf', data: await makePdf({ pages: ['INVOICE 7'] }) }] });
  const view = await client.wait(job.id, { signal: AbortSignal.timeout(60_000) });
  assert.equal(view.status, 'succeeded');
  assert.deepEqual([view.usage?.promptTokens, view.usage?.completionTokens, view.usage?.calls], [1234, 56, 1]);
  // 1,234 × 0.15 + 56 × 0.6 = 218.7 millionths of a dollar (the view rounds it to 219).
  assert.ok(Math.abs((view.usage?.costUsd ?? 0) - 0.0002187) < 1e-6, `cost ${view.usage?.costUsd}`);

  await page.goto(`${server.url}/#/jobs/${job.id}`);
  const tokens = page.locator('#job-tokens');
  await tokens.waitFor({ timeout: WAIT_MS });
  assert.equal(await tokens.textContent(), '1,290 (1,234 prompt, 56 completion; 1 model call), $0.000219');
  assert.equal((await page.content()).includes('sk-console-SECRET'), false, 'the provider key is nowhere in the page');
});
