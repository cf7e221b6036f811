// Distributed: `kill -9` of the `ream worker` running a chunk. On an earlier attempt the chunk is
// claimed again by another worker; killed on its last attempt (3), it fails with `worker_lost`,
// not `timeout`, and the job ends failed with that code.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { startCluster, type WorkerProcess } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { numberedPages, writePdf } from '../support/make-pdf.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';
import { waitFor } from './batch-checks.ts';

const missing = (await redisUnavailable()) ?? (await postgresUnavailable());
const WORKER_ARGS = ['--concurrency', '1', '--threads', '1', '--lease', '2'];

void test('distributed: kill -9 of the worker running a chunk hands it to another worker, and on its last attempt fails it with worker_lost', { timeout: 300_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const dir = await mkdtemp(join(tmpdir(), 'ream-worker-lost-'));
  const cluster = await startCluster({ workers: 1, workerArgs: WORKER_ARGS });
  try {
    const pdf = join(dir, 'held.pdf');
    await writePdf(pdf, { pages: numberedPages('held', 2) });
    const markDir = join(dir, 'marks');
    const client = new ReamClient({ baseUrl: cluster.server.url });
    // Never released: each attempt of the one chunk waits until its worker dies.
    const job = await client.submit({ files: [pdf], pipeline: 'gated', options: { releaseFile: join(dir, 'never'), markDir } });
    const starts = async (): Promise<number> => (await readdir(markDir).catch(() => [] as string[])).filter((name) => name.startsWith('started-')).length;
    let running: WorkerProcess | undefined = cluster.workers[0];
    for (let attempt = 1; attempt <= 3; attempt++) {
      await waitFor(async () => ((await starts()) >= attempt ? true : undefined), 60_000, () => `attempt ${attempt} never started:\n${cluster.output()}`);
      assert.equal(await starts(), attempt, 'one worker at a time runs the chunk');
      assert.equal((await client.getJob(job.id)).status, 'running', `killed on attempt ${attempt - 1}, the chunk was taken again`);
      running?.child.kill('SIGKILL');
      t.diagnostic(`attempt ${attempt}: killed worker pid ${running?.child.pid}`);
      running = await cluster.startWorker();
    }
    const ended = await client.wait(job.id, { signal: AbortSignal.timeout(60_000) });
    assert.equal(ended.status, 'failed', cluster.output());
    assert.equal(await starts(), 3, 'no fourth attempt');
    const [output] = await client.results(job.id);
    const codes = [...new Set([...(output?.failedPages ?? []).map((failure) => failure.code), ...(output?.error ? [output.error.code] : [])])];
    assert.deepEqual(codes, ['worker_lost'], JSON.stringify(output?.failedPages ?? output?.error));
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
