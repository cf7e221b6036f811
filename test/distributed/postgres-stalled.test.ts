// A PostgreSQL that stops answering (a partition, a stuck host: connections stay open, no reply
// comes) must not hang requests on the connections the pool holds: they answer 503 `unavailable`,
// with Retry-After, within a bound, and the service works again once PostgreSQL answers.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { withProxiedService } from '../support/proxied-service.ts';

/** Far above the bound (the 30 s query timeout), far below "until PostgreSQL is back". */
const ANSWER_WITHIN_MS = 90_000;

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
  });
});
