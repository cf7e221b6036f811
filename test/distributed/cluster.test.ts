import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import type { ReamEvent } from '../../src/events/types.ts';
import { startCluster } from '../support/cluster.ts';
import { corpusDir, hasCorpus, isCI, requireOrSkip } from '../support/env.ts';
import { numberedPages, writePdf } from '../support/make-pdf.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';
import { checkBatch, waitFor } from './batch-checks.ts';

const missing = (await redisUnavailable()) ?? (await postgresUnavailable());

void test('one server and three workers: a 324-page PDF spreads over every worker; kill -9 of one costs only its in-flight chunks', { timeout: 900_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const dir = await mkdtemp(join(tmpdir(), 'ream-cluster-test-'));
  // Three workers of two slots each, short leases so a killed worker's chunks come back soon.
  const cluster = await startCluster({ workers: 3, workerArgs: ['--concurrency', '2', '--threads', '1', '--lease', '3'] });
  try {
    // The big one: the corpus's 324-page LuaTeX manual, or (without the corpus) a generated 320-page PDF.
    let big = join(corpusDir, 'base__base__luatex.pdf');
    if (!hasCorpus()) {
      if (isCI) throw new Error('the shared corpus is required when CI=true');
      t.diagnostic('the shared corpus is missing: using a generated 320-page PDF instead of the LuaTeX manual');
      big = join(dir, 'big.pdf');
      await writePdf(big, { pages: numberedPages('big', 320) });
    }
    const small = [];
    for (let i = 1; i <= 4; i++) {
      const path = join(dir, `small-${i}.pdf`);
      await writePdf(path, { pages: numberedPages(`small ${i}`, 3 + i) });
      small.push(path);
    }
    const client = new ReamClient({ baseUrl: cluster.server.url });
    const job = await client.submit({ files: [big, ...small], pipeline: 'slow', options: { chunkPages: 8, msPerPage: 150 } });

    const events: ReamEvent[] = [];
    const following = (async () => {
      for await (const event of client.events(job.id)) events.push(event);
    })();

    // Every worker takes part before one of them dies.
    const workersSeen = await waitFor(async () => {
      const response = await fetch(`${cluster.server.url}/v1/workers`);
      const { items } = (await response.json()) as { items: { pid: number; inFlight: number; tasksDone: number }[] };
      const busy = items.filter((w) => w.inFlight > 0 || w.tasksDone > 0);
      return busy.length === 3 && events.filter((e) => e.type === 'chunk.completed').length >= 6 && (items.find((w) => w.pid === cluster.workers[0]?.child.pid)?.inFlight ?? 0) > 0 ? items : undefined;
    }, 120_000, () => `not every worker took work:\n${cluster.output()}`);
    assert.equal(workersSeen.length, 3);
    const victim = cluster.workers[0];
    assert.ok(victim);
    const doneBeforeKill = events.filter((e) => e.type === 'chunk.completed').length;
    victim.child.kill('SIGKILL');
    t.diagnostic(`killed worker pid ${victim.child.pid} after ${doneBeforeKill} chunk events`);

    const finished = await client.wait(job.id, { signal: AbortSignal.timeout(180_000) });
    await following;
    assert.equal(finished.status, 'succeeded', cluster.output());
    await checkBatch(client, job.id, events, 5, () => cluster.output());

    // The dead worker is no longer listed once its heartbeats stop (30 s); the others are.
    const { items } = (await (await fetch(`${cluster.server.url}/v1/workers`)).json()) as { items: { pid: number }[] };
    assert.ok(items.some((w) => w.pid === cluster.workers[1]?.child.pid), `worker pid ${cluster.workers[1]?.child.pid} not listed: ${JSON.stringify(items)}\n${cluster.output()}`);
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
