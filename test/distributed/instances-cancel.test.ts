import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { requireOrSkip } from '../support/env.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';
import { waitFor } from './batch-checks.ts';
import { withTwoInstances, workers } from './two-instances.ts';

const missing = (await redisUnavailable()) ?? (await postgresUnavailable());

void test('a cancel sent to one instance aborts the job\'s tasks running in the worker processes', { timeout: 900_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  await withTwoInstances(async (cluster, a, b) => {
    // Chunks of 8 pages at 15 s a page: two minutes each if nothing stops them.
    const pdf = await makePdf({ pages: numberedPages('cancel me', 64) });
    const client = new ReamClient({ baseUrl: a });
    const job = await client.submit({ files: [{ name: 'long.pdf', data: pdf }], pipeline: 'slow', options: { chunkPages: 8, msPerPage: 15_000 } });
    await waitFor(async () => {
      const busy = (await workers(a)).filter((w) => w.inFlight > 0);
      return busy.length === 2 ? busy : undefined;
    }, 60_000, () => `the workers did not take the job's chunks:\n${cluster.output()}`);

    const cancelledAt = Date.now();
    const cancelled = await new ReamClient({ baseUrl: b }).cancel(job.id);
    assert.equal(cancelled.status, 'cancelled');
    // Running tasks end within a heartbeat or two, far sooner than the two minutes they would take.
    await waitFor(async () => ((await workers(a)).every((w) => w.inFlight === 0) ? true : undefined), 90_000, () => `tasks still running after the cancel:\n${cluster.output()}`);
    const stoppedAfter = Date.now() - cancelledAt;
    t.diagnostic(`running tasks stopped ${stoppedAfter} ms after the cancel`);
    assert.ok(stoppedAfter < 90_000);

    const view = await client.getJob(job.id);
    assert.equal(view.status, 'cancelled');
    assert.equal(view.counts.chunks.succeeded, 0, 'no chunk ran to its end');
  });
});
