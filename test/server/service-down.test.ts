// An unexpected error that is a database or queue not answering is 503 `unavailable` (retry
// later), without its host in the answer; any other unexpected error stays 500 `internal`.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { ReamError } from '../../src/errors.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer } from '../../src/server/app.ts';
import { toProblem } from '../../src/server/problem.ts';

/** A loopback port nothing listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(address !== null && typeof address === 'object');
  return address.port;
}

test('PostgreSQL or Redis that does not answer is 503 unavailable, its address kept out of the answer', async () => {
  const port = await closedPort();
  const pool = new pg.Pool({ connectionString: `postgres://ream:secret@127.0.0.1:${port}/db`, connectionTimeoutMillis: 2_000 });
  pool.on('error', () => undefined);
  const pgFailure = await pool.query('select 1').then(() => undefined, (error: unknown) => error);
  await pool.end();
  const redis = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  redis.on('error', () => undefined);
  const redisFailure = await redis.get('k').then(() => undefined, (error: unknown) => error);
  redis.disconnect();

  for (const failure of [pgFailure, redisFailure]) {
    assert.ok(failure instanceof Error, 'the call failed');
    const problem = toProblem(failure);
    assert.deepEqual([problem.status, problem.code], [503, 'unavailable'], String(failure));
    assert.ok(!problem.detail.includes(String(port)) && !problem.detail.includes('127.0.0.1'), problem.detail);
  }
  const terminated = Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
  assert.equal(toProblem(terminated).status, 503, 'a backend terminated by the server');
  assert.equal(toProblem(new Error('Connection terminated unexpectedly')).status, 503);
  assert.equal(toProblem(new Error('Command timed out')).status, 503, 'a Redis command left unanswered (ioredis commandTimeout)');
  assert.equal(toProblem(new Error('Query read timeout')).status, 503, 'a PostgreSQL query left unanswered (pg query_timeout)');
});

test('any other unexpected error is still 500 internal, saying nothing of itself', () => {
  const problem = toProblem(new TypeError("Cannot read properties of undefined (reading 'x')"));
  assert.deepEqual([problem.status, problem.code, problem.detail], [500, 'internal', 'internal error']);
  assert.equal(toProblem(Object.assign(new Error('duplicate key'), { code: '23505' })).status, 500, 'a constraint is no outage');
});

test('/readyz names the service that does not answer, but not its address (anyone may ask)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-readyz-'));
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
  // Its store's answer as PostgreSQL gives it when down: the host and port in the words.
  const down: Ream = { ...ream, ready: () => Promise.reject(new ReamError('unavailable', 'the store does not answer: connect ECONNREFUSED 10.1.2.3:5432', { retryable: true, details: { service: 'the store' } })) };
  const server = await startServer({ ream: down, host: '127.0.0.1', port: 0, logger: false });
  try {
    const answer = await fetch(`${server.url}/readyz`);
    const problem = (await answer.json()) as { code: string; detail: string };
    assert.deepEqual([answer.status, problem.code, problem.detail], [503, 'unavailable', 'the store does not answer']);
    assert.equal(answer.headers.get('retry-after'), '5', 'a 503 says when to come back');
  } finally {
    await server.close();
    await ream.close();
    await rm(dir, { recursive: true, force: true });
  }
});
