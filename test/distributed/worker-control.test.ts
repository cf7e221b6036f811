// Worker monitoring and control across processes: the server lists a `ream worker`'s tasks in
// flight (job, document, chunk) from its heartbeats; an admin's drain through the API makes
// that process finish what it holds and exit 0, as SIGTERM does; /readyz names S3 when it is down.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { startCluster } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';
import { waitFor } from './batch-checks.ts';

const missing = (await redisUnavailable()) ?? (await postgresUnavailable());

interface WorkerView {
  id: string;
  state: string;
  rssMb: number;
  running: Array<{ kind: string; jobId: string; documentId?: string; chunk?: { from: number } }>;
}

void test('an admin drains a ream worker through the API; /readyz names the blob store when S3 is down', { timeout: 600_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const cluster = await startCluster({ workers: 1, workerArgs: ['--concurrency', '2', '--threads', '1', '--drain-timeout', '120'] });
  const gate = await mkdtemp(join(tmpdir(), 'ream-worker-control-'));
  try {
    const client = new ReamClient({ baseUrl: cluster.server.url });
    const releaseFile = join(gate, 'release');
    const pdf = await makePdf({ pages: numberedPages('control', 8) });
    const job = await client.submit({ files: [{ name: 'control.pdf', data: pdf }], pipeline: 'gated', options: { chunkPages: 2, releaseFile } });
    const listed = async (): Promise<WorkerView[]> => ((await (await fetch(`${cluster.server.url}/v1/workers`)).json()) as { items: WorkerView[] }).items;
    const busy = await waitFor(async () => {
      const [worker] = await listed();
      return worker?.running.filter((task) => task.kind === 'chunk.extract').length === 2 ? worker : undefined;
    }, 120_000, () => cluster.output());
    assert.ok(busy.running.every((task) => task.kind !== 'chunk.extract' || (task.jobId === job.id && task.documentId !== undefined && task.chunk !== undefined)));
    assert.ok(busy.rssMb > 10, `the worker's own memory is reported (${busy.rssMb} MB)`);

    const worker = cluster.workers[0];
    assert.ok(worker);
    const exited = once(worker.child, 'exit');
    const drain = await fetch(`${cluster.server.url}/v1/workers/${encodeURIComponent(busy.id)}/drain`, { method: 'POST' });
    assert.equal(drain.status, 202);
    await waitFor(async () => ((await listed())[0]?.state === 'draining' ? true : undefined), 120_000, () => worker.output());
    await writeFile(releaseFile, ''); // the chunks it holds may finish now
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, worker.output());
    assert.match(worker.output(), /draining \(an admin asked to drain\)[\s\S]*stopped/);

    assert.equal((await fetch(`${cluster.server.url}/readyz`)).status, 200);
    await cluster.s3.close();
    const unready = await fetch(`${cluster.server.url}/readyz`);
    assert.equal(unready.status, 503);
    const problem = (await unready.json()) as { code: string; detail: string };
    assert.equal(problem.code, 'unavailable');
    assert.match(problem.detail, /the blob store does not answer/);
  } finally {
    await cluster.stop();
    await rm(gate, { recursive: true, force: true });
  }
});
