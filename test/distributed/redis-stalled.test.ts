// A Redis that stops answering (a partition, a stuck host: connections stay open, no reply comes)
// must not hang the requests that touch the queue: they answer 503 `unavailable`, with
// Retry-After, within a bound, and the service works again once Redis answers.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { startServer } from '../../src/server/app.ts';
import { deleteRedisPrefix, freshDatabase } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { startS3Server } from '../support/s3-server.ts';
import { postgresUnavailable, redisUnavailable, TEST_REDIS_URL, uniqueName } from '../support/services.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

const missing = (await postgresUnavailable()) ?? (await redisUnavailable());

/** Far above the bound (a few Redis command timeouts), far below "until Redis is back". */
const ANSWER_WITHIN_MS = 45_000;

void test('Redis that stops answering: POST /v1/jobs, /metrics and /v1/queues answer 503 unavailable with Retry-After, a cancel still ends its job, then all works again', { timeout: 300_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const target = new URL(TEST_REDIS_URL);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
  const [s3, database] = [await startS3Server(), await freshDatabase()];
  const prefix = uniqueName('ream_stalled');
  const dir = await mkdtemp(join(tmpdir(), 'ream-redis-stalled-'));
  try {
    const ream = await createReam({
      dataDir: join(dir, 'data'), threads: 1, work: false,
      distributed: { redisUrl: proxy.url(TEST_REDIS_URL), databaseUrl: database.url, prefix, s3: { bucket: s3.bucket, endpoint: s3.endpoint, credentials: s3.credentials, forcePathStyle: true } },
    });
    const server = await startServer({ ream, host: '127.0.0.1', port: 0, logger: false });
    try {
      const submit = (): Promise<Response> => {
        const form = new FormData();
        form.append('file', new Blob(['hello from a stalled queue']), 'note.txt');
        return fetch(`${server.url}/v1/jobs`, { method: 'POST', body: form, signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
      };
      assert.equal((await submit()).status, 202, 'the service works before');

      proxy.hang();
      const answers = await Promise.all([
        submit(),
        fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) }),
        fetch(`${server.url}/v1/queues`, { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) }),
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
      const cancel = await fetch(`${server.url}/v1/jobs/${queued.id}/cancel`, { method: 'POST', signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
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
      const cancelDoc = await fetch(`${server.url}/v1/jobs/${single.id}/documents/${doc?.documentId ?? ''}/cancel`, { method: 'POST', signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
      assert.equal(cancelDoc.status, 200, await cancelDoc.text());
      assert.equal((await ream.getJob(single.id))?.status, 'cancelled', 'its last document cancelled, the job ended');
      assert.ok((await store.listEvents(single.id, 0, 100)).some((e) => e.type === 'document.cancelled'));

      proxy.pass();
      const after = await submit();
      assert.equal(after.status, 202, 'the service works again once Redis answers');
      const job = (await after.json()) as { id: string };
      assert.ok(await ream.getJob(job.id), 'the job is stored');
    } finally {
      proxy.pass();
      await server.close();
      await ream.close();
    }
  } finally {
    await proxy.close();
    await deleteRedisPrefix(TEST_REDIS_URL, prefix);
    await database.drop();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  }
});
