// A Redis that stops answering (a partition, a stuck host: connections stay open, no reply comes)
// must not hang the requests that touch the queue: they answer 503 `unavailable`, with
// Retry-After, within a bound, and the service works again once Redis answers.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { withProxiedService } from '../support/proxied-service.ts';
import { pipelines } from '../fixtures/slow-pipeline.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';

/** Far above the bound (a few Redis command timeouts), far below "until Redis is back". */
const ANSWER_WITHIN_MS = 45_000;

void test('Redis that stops answering: POST /v1/jobs, /metrics and /v1/queues answer 503 unavailable with Retry-After, a cancel still ends its job, then all works again', { timeout: 300_000 }, async (t) => {
  await withProxiedService(t, 'redis', async ({ ream, url, proxy }) => {
    const submit = (): Promise<Response> => {
      const form = new FormData();
      form.append('file', new Blob(['hello from a stalled queue']), 'note.txt');
      return fetch(`${url}/v1/jobs`, { method: 'POST', body: form, signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
    };
    assert.equal((await submit()).status, 202, 'the service works before');

    proxy.hang();
    const answers = await Promise.all([
      submit(),
      fetch(`${url}/metrics`, { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) }),
      fetch(`${url}/v1/queues`, { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) }),
    ]);
    for (const [answer, what] of answers.map((a, i) => [a, ['POST /v1/jobs', 'GET /metrics', 'GET /v1/queues'][i]] as const)) {
      const problem = (await answer.json()) as { code?: string };
      assert.deepEqual([answer.status, problem.code], [503, 'unavailable'], `${what}: ${JSON.stringify(problem)}`);
      assert.match(answer.headers.get('retry-after') ?? '', /^\d+$/, `${what} says when to retry`);
    }

    // A cancel meanwhile: the job, its documents and its event are the store's; only the
    // removal of its queued tasks waits for Redis (they do nothing when claimed).
    proxy.pass();
    const queued = (await (await submit()).json()) as { id: string };
    proxy.hang();
    const cancel = await fetch(`${url}/v1/jobs/${queued.id}/cancel`, { method: 'POST', signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
    assert.equal(cancel.status, 200, await cancel.text());
    assert.equal((await ream.getJob(queued.id))?.status, 'cancelled');
    assert.deepEqual((await ream.jobDocuments(queued.id)).map((doc) => doc.status), ['cancelled'], 'its document ended too');
    const { store } = adaptersOf(ream);
    assert.ok((await store.listEvents(queued.id, 0, 100)).some((e) => e.type === 'job.cancelled'), 'job.cancelled is said (followers and webhooks end)');

    // The same for one document: cancelled, said, and its job (of which it was the only one) ended.
    proxy.pass();
    const single = (await (await submit()).json()) as { id: string };
    const [doc] = await ream.jobDocuments(single.id);
    proxy.hang();
    const cancelDoc = await fetch(`${url}/v1/jobs/${single.id}/documents/${doc?.documentId ?? ''}/cancel`, { method: 'POST', signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
    assert.equal(cancelDoc.status, 200, await cancelDoc.text());
    assert.equal((await ream.getJob(single.id))?.status, 'cancelled', 'its last document cancelled, the job ended');
    assert.ok((await store.listEvents(single.id, 0, 100)).some((e) => e.type === 'document.cancelled'));

    proxy.pass();
    const after = await submit();
    assert.equal(after.status, 202, 'the service works again once Redis answers');
    const job = (await after.json()) as { id: string };
    assert.ok(await ream.getJob(job.id), 'the job is stored');
  });
});

void test('Redis that stops answering: POST /v1/jobs answers 503 within seconds and leaves no job behind', { timeout: 120_000 }, async (t) => {
  await withProxiedService(t, 'redis', async ({ ream, url, proxy }) => {
    const submit = (): Promise<Response> => {
      const form = new FormData();
      form.append('file', new Blob(['hello from a stalled queue']), 'note.txt');
      return fetch(`${url}/v1/jobs`, { method: 'POST', body: form, signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
    };
    const before = (await (await submit()).json()) as { id: string };
    proxy.hang();
    const started = Date.now();
    const answer = await submit();
    const tookMs = Date.now() - started;
    t.diagnostic(`answered in ${tookMs} ms`);
    const problem = (await answer.json()) as { code?: string };
    assert.deepEqual([answer.status, problem.code], [503, 'unavailable'], JSON.stringify(problem));
    proxy.pass();
    assert.deepEqual((await ream.listJobs({})).items.map((job) => job.id), [before.id], 'no job was made for the refused request');
    assert.ok(tookMs < 7_000, `answered in ${tookMs} ms`);
  });
});

void test('A cancel said while Redis does not answer the server still stops the job\'s task running on a worker', { timeout: 180_000 }, async (t) => {
  await withProxiedService(t, 'redis', async ({ ream, url, proxy, direct }) => {
    // The worker reaches Redis; the server that is asked to cancel does not, so no cancel message goes out.
    const dir = await mkdtemp(join(tmpdir(), 'ream-stalled-worker-'));
    const worker = await createReam({ dataDir: dir, threads: 1, pipelines, leaseMs: 3_000, distributed: direct });
    try {
      // One chunk that would take two minutes if nothing stopped it.
      const file = join(dir, 'slow.pdf');
      await writeFile(file, await makePdf({ pages: numberedPages('slow', 1) }));
      const job = await ream.submit({ files: [file], pipeline: 'slow', options: { msPerPage: 120_000 } });
      // Its document inspected (one task completed), its chunk under way.
      const chunkRunning = async (): Promise<boolean> => {
        const counts = await worker.taskCounts(job.id);
        return counts.completed === 1 && counts.leased === 1;
      };
      for (const deadline = Date.now() + 30_000; !(await chunkRunning()); await sleep(50)) {
        assert.ok(Date.now() < deadline, `the worker took the chunk: ${JSON.stringify(await worker.taskCounts(job.id))}`);
      }
      proxy.hang();
      const cancelledAt = Date.now();
      const cancel = await fetch(`${url}/v1/jobs/${job.id}/cancel`, { method: 'POST', signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
      assert.equal(cancel.status, 200, await cancel.text());
      for (const deadline = cancelledAt + 45_000; (await worker.taskCounts(job.id)).leased > 0; await sleep(100)) {
        assert.ok(Date.now() < deadline, 'the running chunk stopped');
      }
      t.diagnostic(`the running chunk stopped ${Date.now() - cancelledAt} ms after the cancel was sent`);
      assert.equal((await worker.taskCounts(job.id)).cancelled, 1, 'it was stopped, not run to its end');
      const events = (await worker.listEvents(job.id, 0)).map((event) => event.type);
      assert.ok(!events.includes('chunk.completed'), events.join(', '));
    } finally {
      proxy.pass();
      await worker.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, { ream: { pipelines } });
});
