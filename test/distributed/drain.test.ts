import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import type { ReamEvent } from '../../src/events/types.ts';
import { startCluster } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';
import { checkBatch, waitFor } from './batch-checks.ts';

const missing = (await redisUnavailable()) ?? (await postgresUnavailable());

void test('SIGTERM drains a worker: it finishes what it runs, takes nothing new, exits 0; another worker finishes the job', { timeout: 300_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const cluster = await startCluster({ workers: 1, workerArgs: ['--concurrency', '2', '--threads', '1', '--drain-timeout', '120'] });
  try {
    const client = new ReamClient({ baseUrl: cluster.server.url });
    const pdf = await makePdf({ pages: numberedPages('drain', 24) });
    // Twelve chunks of 2 pages, 4 s each, two at a time: about 20 s in which the worker is on
    // chunks with more to come, however late this test looks.
    const job = await client.submit({ files: [{ name: 'drain.pdf', data: pdf }], pipeline: 'slow', options: { chunkPages: 2, msPerPage: 2_000 } });
    const events: ReamEvent[] = [];
    const following = (async () => {
      for await (const event of client.events(job.id)) events.push(event);
    })();
    // Counted in the store (the job's counts), not from the event stream, which may lag behind.
    const chunksDone = async (): Promise<number> => (await client.getJob(job.id)).counts.chunks.succeeded;
    // Once a chunk is done the worker is on chunks (not on reading the PDF), both slots busy.
    await waitFor(async () => {
      const { items } = (await (await fetch(`${cluster.server.url}/v1/workers`)).json()) as { items: { inFlight: number }[] };
      return (items[0]?.inFlight ?? 0) > 0 && (await chunksDone()) > 0 ? true : undefined;
    }, 120_000, () => cluster.output());

    const worker = cluster.workers[0];
    assert.ok(worker);
    const chunksBefore = await chunksDone();
    const exited = once(worker.child, 'exit');
    const signalledAt = Date.now();
    worker.child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    const drainedIn = Date.now() - signalledAt;
    t.diagnostic(`drained in ${drainedIn} ms`);
    assert.equal(code, 0, worker.output());
    assert.match(worker.output(), /draining…[\s\S]*stopped/);
    // It finished the chunks it held (4 s each) rather than dropping them, and took no new ones;
    // and it stopped once they were done, far sooner than its 120 s drain timeout.
    const chunksByDrain = await chunksDone();
    assert.ok(chunksByDrain > chunksBefore, 'the chunks in flight were finished');
    assert.ok(chunksByDrain < 12, 'it did not go on to take the rest');
    assert.ok(drainedIn < 90_000, `drained in ${drainedIn} ms: it waited for its drain timeout`);

    await cluster.startWorker();
    const finished = await client.wait(job.id, { signal: AbortSignal.timeout(90_000) });
    await following;
    assert.equal(finished.status, 'succeeded', cluster.output());
    await checkBatch(client, job.id, events, 1);
  } finally {
    await cluster.stop();
  }
});
