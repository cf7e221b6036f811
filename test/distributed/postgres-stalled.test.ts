// A PostgreSQL that stops answering (a partition, a stuck host: connections stay open, no reply
// comes) must not hang requests on the connections the pool holds: they answer 503 `unavailable`,
// with Retry-After, within a bound, and the service works again once PostgreSQL answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pg from 'pg';
import { withProxiedService } from '../support/proxied-service.ts';

/** Far above the bound (the query timeout lowered here, and 5 s more), far below "until PostgreSQL is back". */
const ANSWER_WITHIN_MS = 60_000;

void test('PostgreSQL that stops answering: GET /v1/jobs/:id answers 503 unavailable with Retry-After, then works again', { timeout: 300_000 }, async (t) => {
  await withProxiedService(t, 'postgres', async ({ url, proxy }) => {
    const form = new FormData();
    form.append('file', new Blob(['hello from a stalled database']), 'note.txt');
    const created = await fetch(`${url}/v1/jobs`, { method: 'POST', body: form });
    assert.equal(created.status, 202);
    const { id } = (await created.json()) as { id: string };
    const get = (): Promise<Response> => fetch(`${url}/v1/jobs/${id}`, { signal: AbortSignal.timeout(ANSWER_WITHIN_MS) });
    assert.equal((await get()).status, 200, 'the pool holds an open connection now');

    proxy.hang();
    const answer = await get();
    const problem = (await answer.json()) as { code?: string };
    assert.deepEqual([answer.status, problem.code], [503, 'unavailable'], JSON.stringify(problem));
    assert.match(answer.headers.get('retry-after') ?? '', /^\d+$/);

    proxy.pass();
    assert.equal((await get()).status, 200, 'the service works again once PostgreSQL answers');
  }, { distributed: { queryTimeoutMs: 3_000 } });
});

void test('A lock held past the query bound: POST /v1/jobs answers 503 unavailable at the bound, and once the lock goes no job was made', { timeout: 120_000 }, async (t) => {
  const boundMs = 1_500;
  const lockMs = 12_000;
  await withProxiedService(t, 'postgres', async ({ url, databaseUrl }) => {
    const holder = new pg.Client({ connectionString: databaseUrl });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query('lock table jobs in access exclusive mode');
      const started = Date.now();
      const form = new FormData();
      form.append('file', new Blob(['hello behind a lock']), 'note.txt');
      const answer = await fetch(`${url}/v1/jobs`, { method: 'POST', body: form, signal: AbortSignal.timeout(lockMs * 2) });
      const tookMs = Date.now() - started;
      const problem = (await answer.json()) as { code?: string; detail?: string };
      assert.deepEqual([answer.status, problem.code], [503, 'unavailable'], JSON.stringify(problem));
      assert.match(problem.detail ?? '', /cancelled a statement that ran past its time limit \(--pg-statement-timeout.*wrote nothing of it/, 'says which limit, and that nothing was written');
      assert.ok(tookMs < lockMs / 2, `answered in ${tookMs} ms, before the lock went`);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, lockMs - tookMs)));
    } finally {
      await holder.query('commit').finally(() => holder.end());
    }
    // The insert was aborted in the server, not left to go on once the lock went.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const check = new pg.Client({ connectionString: databaseUrl });
    await check.connect();
    try {
      assert.deepEqual((await check.query('select id, status from jobs')).rows, [], 'no job is left behind');
    } finally {
      await check.end();
    }
  }, { distributed: { queryTimeoutMs: boundMs } });
});
