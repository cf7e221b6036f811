// GET /v1/usage and ReamClient.usage(): a tenant's model tokens and cost, never another's.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { makePdf } from '../support/make-pdf.ts';
import { startFakeOpenAi, type FakeOpenAi } from '../support/openai-server.ts';
import { issueTenantKeys, type TenantKeys } from '../support/tenant-keys.ts';

let dir: string;
let ream: Ream;
let server: RunningServer;
let model: FakeOpenAi;
let keys: TenantKeys;

before(async () => {
  model = await startFakeOpenAi(() => ({ content: JSON.stringify({ answer: 'yes', pages: [1], quote: 'INVOICE' }), promptTokens: 100, completionTokens: 10 }));
  dir = await mkdtemp(join(tmpdir(), 'ream-usage-route-'));
  ream = await createReam({
    dataDir: join(dir, 'data'), threads: 1,
    // $2 per million prompt tokens, $8 per million completion tokens.
    llm: { baseURL: model.baseURL, apiKey: 'sk-usage-SECRET', model: 'priced', prices: { priced: { prompt: 2, completion: 8 } } },
  });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } });
  keys = await issueTenantKeys(ream);
});
after(async () => {
  await server.close();
  await ream.close();
  await model.close();
  await rm(dir, { recursive: true, force: true });
});

const client = (who: keyof TenantKeys): ReamClient => new ReamClient({ baseUrl: server.url, apiKey: keys[who] });

/** One `ask` job of one page per question, as `who`'s tenant, waited for. */
async function ask(who: keyof typeof keys, questions: number): Promise<void> {
  const pdf = await makePdf({ pages: ['INVOICE 7'] });
  for (let i = 0; i < questions; i++) {
    const job = await client(who).submit({ pipeline: 'llm', options: { mode: 'ask', question: `Question ${i}?` }, files: [{ name: `q${i}.pdf`, data: pdf }] });
    assert.equal((await ream.wait(job.id)).status, 'succeeded');
  }
}

test('a tenant reads its own usage, zero before its first call, with the cost from the price table', async () => {
  assert.deepEqual(await client('a').usage(), {
    tenantId: 'tenant-a',
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0, calls: 0, cachedCalls: 0, byModel: [] },
  });
  await ask('a', 2);
  await ask('b', 1);
  const { tenantId, usage } = await client('a').usage();
  assert.equal(tenantId, 'tenant-a');
  assert.equal(usage.calls, 2, 'tenant b\'s call is not counted');
  assert.equal(usage.promptTokens, 200);
  assert.equal(usage.completionTokens, 20);
  assert.equal(usage.totalTokens, 220);
  assert.ok(Math.abs((usage.costUsd ?? -1) - (200 * 2 + 20 * 8) / 1e6) < 1e-12, `cost ${usage.costUsd}`);
  assert.deepEqual(usage.byModel.map((row) => [row.model, row.calls]), [['priced', 2]]);
  // The same question on the same PDF: tenant b gets no answer from tenant a's cache.
  assert.deepEqual((await client('b').usage()).usage.byModel.map((row) => [row.calls, row.cachedCalls]), [[1, 0]]);
});

test('only an admin names another tenant; the answer never holds the provider key', async () => {
  assert.equal((await client('admin').usage({ tenant: 'tenant-b' })).usage.calls, 1);
  assert.equal((await client('admin').usage()).usage.calls, 0, 'an admin reads its own tenant by default');
  const refused = await fetch(`${server.url}/v1/usage?tenant=tenant-a`, { headers: { authorization: `Bearer ${keys.b}` } });
  assert.equal(refused.status, 403);
  assert.equal(((await refused.json()) as { code: string }).code, 'forbidden');
  const anonymous = await fetch(`${server.url}/v1/usage`);
  assert.equal(anonymous.status, 401);
  const text = await (await fetch(`${server.url}/v1/usage?tenant=tenant-a`, { headers: { authorization: `Bearer ${keys.admin}` } })).text();
  assert.doesNotMatch(text, /SECRET/);
});
