import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';
import { startServer } from '../../src/server/app.ts';
import { issueApiKey } from '../../src/server/auth/api-keys.ts';

void test('GET /v1/workers lists the working processes from their heartbeats; admins only when auth is on', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-workers-'));
  const ream = await createReam({ dataDir: dir, threads: 1, concurrency: 3 });
  const server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } });
  try {
    const store = ream.engine.ports.store;
    const user = (await issueApiKey(store, { tenantId: 't', name: 'user', role: 'user' })).token;
    const admin = (await issueApiKey(store, { tenantId: 't', name: 'admin', role: 'admin' })).token;
    const get = (key: string): Promise<Response> => fetch(`${server.url}/v1/workers`, { headers: { authorization: `Bearer ${key}` } });

    assert.equal((await get(user)).status, 403);
    const response = await get(admin);
    assert.equal(response.status, 200);
    const { items } = (await response.json()) as { items: { host: string; pid: number; state: string; concurrency: number; inFlight: number; lastSeenAt: string }[] };
    assert.equal(items.length, 1);
    assert.deepEqual([items[0]?.host, items[0]?.pid, items[0]?.state, items[0]?.concurrency, items[0]?.inFlight], [hostname(), process.pid, 'running', 3, 0]);
    assert.ok(Date.now() - Date.parse(items[0]?.lastSeenAt ?? '') < 10_000);
  } finally {
    await server.close();
    await ream.close();
  }
  // A clean stop removes the worker from the list.
  const reopened = await createReam({ dataDir: dir, work: false });
  try {
    assert.deepEqual(await reopened.engine.ports.store.listWorkers(0), []);
  } finally {
    await reopened.close();
    await rm(dir, { recursive: true, force: true });
  }
});
