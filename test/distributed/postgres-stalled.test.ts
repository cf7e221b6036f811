// A PostgreSQL that stops answering (a partition, a stuck host: connections stay open, no reply
// comes) must not hang requests on the connections the pool holds: they answer 503 `unavailable`,
// with Retry-After, within a bound, and the service works again once PostgreSQL answers.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';
import { startServer } from '../../src/server/app.ts';
import { deleteRedisPrefix, freshDatabase } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { startS3Server } from '../support/s3-server.ts';
import { postgresUnavailable, redisUnavailable, TEST_REDIS_URL, uniqueName } from '../support/services.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

const missing = (await postgresUnavailable()) ?? (await redisUnavailable());

/** Far above the bound (the 30 s query timeout), far below "until PostgreSQL is back". */
const ANSWER_WITHIN_MS = 90_000;

void test('PostgreSQL that stops answering: GET /v1/jobs/:id answers 503 unavailable with Retry-After, then works again', { timeout: 300_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const [s3, database] = [await startS3Server(), await freshDatabase()];
  const target = new URL(database.url);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
  const prefix = uniqueName('ream_pg_stalled');
  const dir = await mkdtemp(join(tmpdir(), 'ream-postgres-stalled-'));
  try {
    const ream = await createReam({
      dataDir: join(dir, 'data'), threads: 1, work: false,
      distributed: { redisUrl: TEST_REDIS_URL, databaseUrl: proxy.url(database.url), prefix, s3: { bucket: s3.bucket, endpoint: s3.endpoint, credentials: s3.credentials, forcePathStyle: true } },
    });
    const server = await startServer({ ream, host: '127.0.0.1', port: 0, logger: false });
    try {
      const form = new FormData();
      form.append('file', new Blob(['hello from a stalled database']), 'note.txt');
      const created = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body: form });
      assert.equal(created.status, 202);
      const { id } = (await created.json()) as { id: string };
      const get = (): Promise<Response> => fetch(`${server.url}/v1/jobs/${id}`, { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
      assert.equal((await get()).status, 200, 'the pool holds an open connection now');

      proxy.hang();
      const answer = await get();
      const problem = (await answer.json()) as { code?: string };
      assert.deepEqual([answer.status, problem.code], [503, 'unavailable'], JSON.stringify(problem));
      assert.match(answer.headers.get('retry-after') ?? '', /^\d+$/);

      proxy.pass();
      assert.equal((await get()).status, 200, 'the service works again once PostgreSQL answers');
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
