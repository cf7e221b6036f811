// Cancelling one document across processes: `ream serve` takes the HTTP cancel, a separate
// `ream worker` process is running that document's gated chunks and must give them up (their
// abort signal fires), while the job's other document goes on to succeed.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ReamClient } from '../../src/client/index.ts';
import { startCluster } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { gateMarks } from '../support/gate.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { postgresUnavailable, redisUnavailable } from '../support/services.ts';
import { waitFor } from './batch-checks.ts';

const missing = (await redisUnavailable()) ?? (await postgresUnavailable());

const isAlpha = (text: string): boolean => text.startsWith('alpha');

void test('a document cancelled on the server is aborted in the worker process running it; the other document succeeds', { timeout: 120_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const dir = await mkdtemp(join(tmpdir(), 'ream-document-cancel-'));
  // Two task slots, both soon held by gated chunks (alpha's two, or one of alpha's and bravo's).
  const cluster = await startCluster({ workers: 1, workerArgs: ['--concurrency', '2', '--threads', '1', '--lease', '5'] });
  try {
    const releaseFile = join(dir, 'release');
    const markDir = join(dir, 'marks');
    await mkdir(markDir);
    const client = new ReamClient({ baseUrl: cluster.server.url });
    const job = await client.submit({
      files: [{ name: 'alpha.pdf', data: await makePdf({ pages: numberedPages('alpha', 2) }) }, { name: 'bravo.pdf', data: await makePdf({ pages: numberedPages('bravo', 1) }) }],
      pipeline: 'gated',
      options: { chunkPages: 1, releaseFile, markDir },
    });
    const [alpha, bravo] = (await client.jobDocuments(job.id)).items;
    assert.deepEqual([alpha?.name, bravo?.name], ['alpha.pdf', 'bravo.pdf']);
    // Both slots are taken, by at least one chunk of alpha: it is running in the worker process.
    let seen: string[] = [];
    await waitFor(async () => {
      seen = await gateMarks(markDir, 'started');
      return seen.length === 2 && seen.some(isAlpha) ? true : undefined;
    }, 40_000, () => `alpha's chunks did not start (started: ${seen.join(' | ')}):\n${cluster.output()}`);

    const alphaRunning = seen.filter(isAlpha).length;
    const cancelledAt = Date.now();
    const view = await client.cancelDocument(job.id, alpha?.id ?? '');
    assert.equal(view.status, 'running', 'bravo goes on');
    // The worker's gated task sees its abort signal: it gives up rather than waiting for the gate.
    await waitFor(async () => ((await gateMarks(markDir, 'aborted')).filter(isAlpha).length === alphaRunning ? true : undefined), 30_000, () => `alpha's chunks were not aborted:\n${cluster.output()}`);
    t.diagnostic(`the worker aborted alpha's ${alphaRunning} running chunk(s) ${Date.now() - cancelledAt} ms after the cancel`);

    await writeFile(releaseFile, '');
    const ended = await waitFor(async () => {
      const current = await client.getJob(job.id);
      return ['running', 'queued'].includes(current.status) ? undefined : current;
    }, 40_000, () => `the job did not end:\n${cluster.output()}`);
    assert.equal(ended.status, 'partially_succeeded');
    const docs = (await client.jobDocuments(job.id)).items;
    assert.deepEqual(docs.map((d) => [d.name, d.status]), [['alpha.pdf', 'cancelled'], ['bravo.pdf', 'succeeded']]);
    assert.deepEqual([ended.counts.documents.succeeded, ended.counts.documents.cancelled], [1, 1]);
    assert.equal(ended.counts.chunks.succeeded, 1, 'only bravo\'s chunk ran to its end');
    await sleep(300); // a straggler of alpha would show up now that the gate is open
    assert.equal((await gateMarks(markDir, 'started')).filter(isAlpha).length, alphaRunning, 'no chunk of alpha started after the cancel');
    assert.ok((await gateMarks(markDir, 'started')).some((text) => text.startsWith('bravo')), 'bravo ran in the worker');
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
