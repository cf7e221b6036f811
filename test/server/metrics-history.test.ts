// GET /v1/metrics/history: the server samples the deployment into the store's ring buffer, one
// sample per interval on a shared grid. Embedded (SQLite): pages, tasks and failures by code of a
// real job, the queue and the age of a task nobody takes; admins only. Distributed (PostgreSQL,
// Redis): two servers over one deployment count a worker's pages and store each interval once.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { ReamClient, type MetricsSample } from '../../src/client/index.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { startCluster } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';
import { issueTenantKeys } from '../support/tenant-keys.ts';

const INTERVAL_MS = 500;
const WAIT_MS = 30_000;

let dir: string;
const closers: Array<() => Promise<void>> = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-metrics-history-'));
});
after(async () => {
  for (const close of closers.reverse()) await close();
  await rm(dir, { recursive: true, force: true });
});

async function serve(name: string, work: boolean): Promise<{ ream: Ream; server: RunningServer }> {
  const ream = await createReam({ dataDir: join(dir, name), threads: 1, work });
  const server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, metricsHistory: { intervalMs: INTERVAL_MS, capacity: 1_000 } });
  closers.push(async () => {
    await server.close();
    await ream.close();
  });
  return { ream, server };
}

/** Reads the history until `done` holds for its samples (or fails after WAIT_MS). */
async function until(client: ReamClient, done: (items: MetricsSample[]) => boolean, since = 0): Promise<MetricsSample[]> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const { items } = await client.metricsHistory({ since });
    if (done(items)) return items;
    if (Date.now() > deadline) assert.fail(`the history never got there: ${JSON.stringify(items)}`);
    await sleep(200);
  }
}

const sum = (items: readonly MetricsSample[], pick: (sample: MetricsSample) => number): number => items.reduce((total, sample) => total + pick(sample), 0);

test('embedded: the pages, tasks and failures by code of a job, one sample per interval on the grid; admins only', async () => {
  const { ream, server } = await serve('work', true);
  const keys = await issueTenantKeys(ream);
  const admin = new ReamClient({ baseUrl: server.url, apiKey: keys.admin });
  const user = new ReamClient({ baseUrl: server.url, apiKey: keys.a });
  const started = Date.now();
  const job = await user.submit({
    options: { chunkPages: 2 },
    files: [{ name: 'five.pdf', data: await makePdf({ pages: numberedPages('H', 5) }) }, { name: 'empty.pdf', data: new Uint8Array() }],
  });
  assert.equal((await user.wait(job.id)).status, 'partially_succeeded');
  const items = await until(admin, (found) => sum(found, (s) => s.pages) >= 5 && sum(found, (s) => s.failures.empty_file ?? 0) >= 1);
  assert.equal(sum(items, (s) => s.pages), 5, 'every page once');
  assert.equal(sum(items, (s) => s.tasks), 3, 'three chunks of 2, 2 and 1 pages');
  assert.equal(sum(items, (s) => s.documentsFailed), 1);
  for (const [i, sample] of items.entries()) {
    assert.equal(sample.intervalMs, INTERVAL_MS);
    assert.equal(sample.at % INTERVAL_MS, 0, 'on the grid');
    assert.ok(sample.at >= started - INTERVAL_MS && sample.at <= Date.now());
    if (i > 0) assert.ok(sample.at > (items[i - 1]?.at ?? 0), 'oldest first, one per interval');
  }
  const { items: later } = await admin.metricsHistory({ since: items.at(-1)?.at ?? 0 });
  assert.ok(later.length >= 1 && later.every((s) => s.at >= (items.at(-1)?.at ?? 0)), 'since filters');
  await rejectsWithCode(user.metricsHistory(), 'forbidden');
  await rejectsWithCode(admin.metricsHistory({ since: Number.MAX_SAFE_INTEGER * 2 }), 'validation_failed');
});

test('embedded: a started job whose task nobody works on shows as queued tasks and an age that grows', async () => {
  const { ream, server } = await serve('idle', false);
  const keys = await issueTenantKeys(ream);
  const admin = new ReamClient({ baseUrl: server.url, apiKey: keys.admin });
  const job = await new ReamClient({ baseUrl: server.url, apiKey: keys.a }).submit({ files: [{ name: 'q.pdf', data: await makePdf({ pages: ['waiting'] }) }] });
  // The age is the oldest waiting task's, not the oldest job not started: a running job's
  // queued work ages too (as a job does whose first document started and whose chunks wait).
  await adaptersOf(ream).store.updateJob(job.id, { status: 'running', startedAt: Date.now() });
  const items = await until(admin, (found) => found.filter((s) => s.queued > 0 && s.oldestQueuedMs !== null).length >= 2);
  const waiting = items.filter((s) => s.oldestQueuedMs !== null);
  const [first, last] = [waiting[0], waiting.at(-1)];
  assert.ok(first && last && first.oldestQueuedMs !== null && last.oldestQueuedMs !== null);
  assert.ok(last.oldestQueuedMs > first.oldestQueuedMs, `the age grows: ${first.oldestQueuedMs} → ${last.oldestQueuedMs}`);
  assert.equal(sum(items, (s) => s.pages), 0);
});

const missing = (await redisUnavailable()) ?? (await postgresUnavailable());

test('distributed: two servers over one deployment count a worker\'s pages and store each interval once', { timeout: 180_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const cluster = await startCluster({ workers: 1, workerArgs: ['--threads', '1'], serverArgs: ['--metrics-interval', '1'] });
  try {
    await cluster.startServer(['--metrics-interval', '1']);
    const client = new ReamClient({ baseUrl: cluster.server.url });
    const job = await client.submit({ options: { chunkPages: 3 }, files: [{ name: 'nine.pdf', data: await makePdf({ pages: numberedPages('D', 9) }) }] });
    assert.equal((await client.wait(job.id)).status, 'succeeded', cluster.output());
    const items = await until(client, (found) => sum(found, (s) => s.pages) >= 9);
    assert.equal(sum(items, (s) => s.pages), 9, `counted once though two servers sample: ${JSON.stringify(items)}`);
    assert.equal(sum(items, (s) => s.tasks), 3);
    assert.equal(new Set(items.map((s) => s.at)).size, items.length, 'one sample per interval');
  } finally {
    await cluster.stop();
  }
});
