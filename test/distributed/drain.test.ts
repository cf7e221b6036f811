import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import type { ReamEvent } from '../../src/events/types.ts';
import { startCluster } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';
import { checkBatch, waitFor } from './batch-checks.ts';

const missing = (await redisUnavailable()) ?? (await postgresUnavailable());

void test('SIGTERM drains a worker: it finishes what it runs, takes nothing new, exits 0; another worker finishes the job', { timeout: 900_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const cluster = await startCluster({ workers: 1, workerArgs: ['--concurrency', '2', '--threads', '1', '--drain-timeout', '120'] });
  const gate = await mkdtemp(join(tmpdir(), 'ream-drain-'));
  try {
    const client = new ReamClient({ baseUrl: cluster.server.url });
    const pdf = await makePdf({ pages: numberedPages('drain', 24) });
    // Twelve chunks of 2 pages that end only once the release file exists: the worker's two
    // slots hold two of them, for as long as this test needs.
    const releaseFile = join(gate, 'release');
    const job = await client.submit({ files: [{ name: 'drain.pdf', data: pdf }], pipeline: 'gated', options: { chunkPages: 2, releaseFile } });
    const events: ReamEvent[] = [];
    const following = (async () => {
      for await (const event of client.events(job.id)) events.push(event);
    })();
    // Counted in the store (the job's counts), not from the event stream, which may lag behind.
    const chunksDone = async (): Promise<number> => (await client.getJob(job.id)).counts.chunks.succeeded;
    await waitFor(async () => {
      const { items } = (await (await fetch(`${cluster.server.url}/v1/workers`)).json()) as { items: { inFlight: number }[] };
      return items[0]?.inFlight === 2 ? true : undefined;
    }, 120_000, () => cluster.output());
    assert.equal(await chunksDone(), 0, 'the chunks wait for the release file');

    const worker = cluster.workers[0];
    assert.ok(worker);
    const exited = once(worker.child, 'exit');
    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    // Once the worker says it is draining it has stopped claiming: only the two it holds may end.
    await waitFor(async () => {
      const { items } = (await (await fetch(`${cluster.server.url}/v1/workers`)).json()) as { items: { state: string }[] };
      return items[0]?.state === 'draining' ? true : undefined;
    }, 120_000, () => worker.output());
    await writeFile(releaseFile, ''); // now the two chunks in flight may finish
    const [code] = (await exited) as [number | null];
    const drainedIn = Date.now() - signalledAt;
    t.diagnostic(`drained in ${drainedIn} ms`);
    assert.equal(code, 0, worker.output());
    assert.match(worker.output(), /draining \(a stop signal\)…[\s\S]*stopped/);
    // It finished the two chunks it held rather than dropping them, and took no new ones; and it
    // stopped once they were done, far sooner than its 120 s drain timeout.
    // Two slots, so one or two chunks were in flight (a slot may have been between tasks).
    const chunksFinished = await chunksDone();
    assert.ok(chunksFinished >= 1 && chunksFinished <= 2, `the chunks in flight were finished, and no new one was taken (${chunksFinished} done)`);
    assert.ok(drainedIn < 90_000, `drained in ${drainedIn} ms: it waited for its drain timeout`);

    await cluster.startWorker();
    const finished = await client.wait(job.id, { signal: AbortSignal.timeout(300_000) });
    await following;
    assert.equal(finished.status, 'succeeded', cluster.output());
    await checkBatch(client, job.id, events, 1, () => cluster.output());
  } finally {
    await cluster.stop();
    await rm(gate, { recursive: true, force: true });
  }
});

void test('a full worker keeps to its drain timeout: tasks that outlast it are given back, and it exits 0 in time', { timeout: 900_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const cluster = await startCluster({ workers: 1, workerArgs: ['--concurrency', '2', '--threads', '1', '--drain-timeout', '2'] });
  const gate = await mkdtemp(join(tmpdir(), 'ream-drain-'));
  try {
    const client = new ReamClient({ baseUrl: cluster.server.url });
    const releaseFile = join(gate, 'release');
    const job = await client.submit({ files: [{ name: 'held.pdf', data: await makePdf({ pages: numberedPages('held', 8) }) }], pipeline: 'gated', options: { chunkPages: 2, releaseFile } });
    await waitFor(async () => {
      const { items } = (await (await fetch(`${cluster.server.url}/v1/workers`)).json()) as { items: { inFlight: number }[] };
      return items[0]?.inFlight === 2 ? true : undefined;
    }, 120_000, () => cluster.output());
    const worker = cluster.workers[0];
    assert.ok(worker);
    const exited = once(worker.child, 'exit');
    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    const drainedIn = Date.now() - signalledAt;
    t.diagnostic(`drained in ${drainedIn} ms`);
    assert.equal(code, 0, worker.output());
    // Its two slots were full with tasks that never end by themselves: it waited its 2 s, not for them.
    assert.ok(drainedIn < 20_000, `drained in ${drainedIn} ms with a 2 s drain timeout`);
    assert.equal((await client.getJob(job.id)).counts.chunks.succeeded, 0);

    await writeFile(releaseFile, '');
    await cluster.startWorker();
    const finished = await client.wait(job.id, { signal: AbortSignal.timeout(300_000) });
    assert.equal(finished.status, 'succeeded', cluster.output());
  } finally {
    await cluster.stop();
    await rm(gate, { recursive: true, force: true });
  }
});
