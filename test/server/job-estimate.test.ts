// POST /v1/jobs/estimate: what a job would reserve before it is submitted (pages, credits when
// jobs are priced) and the caller's balance; the input checked as a submit checks it.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { issueTenantKeys } from '../support/tenant-keys.ts';

let dir: string;
const closers: Array<() => Promise<void>> = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-job-estimate-'));
});
after(async () => {
  for (const close of closers) await close();
  await rm(dir, { recursive: true, force: true });
});

async function serve(name: string, priced: boolean): Promise<{ ream: Ream; server: RunningServer }> {
  const ream = await createReam({ dataDir: join(dir, name), threads: 1, work: false, ...(priced ? { credits: { prices: { page: 2, llmCompletion1kTokens: 5 } } } : {}) });
  const server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, metricsHistory: false });
  closers.push(async () => {
    await server.close();
    await ream.close();
  });
  return { ream, server };
}

test('priced: a page per document at the page price, and the balance; the input checked, nothing created', async () => {
  const { ream, server } = await serve('priced', true);
  const keys = await issueTenantKeys(ream);
  const admin = new ReamClient({ baseUrl: server.url, apiKey: keys.admin });
  const a = new ReamClient({ baseUrl: server.url, apiKey: keys.a });
  await admin.grantCredits('tenant-a', { amount: 100, reason: 'test' });
  assert.deepEqual(await a.estimate({ documents: 3 }), { pages: 3, credits: 6, priced: true, balance: 100 });
  assert.deepEqual(await a.estimate({ documents: 1, pipeline: 'rules', options: { rules: [{ name: 'n', keywords: ['x'] }], chunkPages: 5 } }), { pages: 1, credits: 2, priced: true, balance: 100 });
  await rejectsWithCode(a.estimate({ documents: 1, pipeline: 'rules', options: {} }), 'validation_failed', /needs options\.rules/);
  await rejectsWithCode(a.estimate({ documents: 1, options: { chunkPages: 0 } }), 'validation_failed');
  await rejectsWithCode(a.estimate({ documents: 0 }), 'validation_failed');
  assert.equal((await ream.listJobs({ tenantId: 'tenant-a' })).items.length, 0, 'nothing was created');
});

test('not priced: no credits, the pages only', async () => {
  const { ream, server } = await serve('free', false);
  const keys = await issueTenantKeys(ream);
  assert.deepEqual(await new ReamClient({ baseUrl: server.url, apiKey: keys.b }).estimate({ documents: 2 }), { pages: 2, credits: 0, priced: false, balance: 0 });
});
