// The SDK sends a request that changes nothing again when the server restarts under it or rate
// limits it, after the answer's Retry-After; a request that changes something is sent once.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { issueTenantKeys, type TenantKeys } from '../support/tenant-keys.ts';

/** A port of this file's own: the server is stopped and started again on it. */
const PORT = 41_240;

let dir: string;
let ream: Ream;
let keys: TenantKeys;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-sdk-retries-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
  keys = await issueTenantKeys(ream);
});
after(async () => {
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

test('a GET sent while the server restarts is answered once it is back; a POST is not sent again', async () => {
  let server: RunningServer = await startServer({ ream, host: '127.0.0.1', port: PORT, auth: { mode: 'on' } });
  const client = new ReamClient({ baseUrl: server.url, apiKey: keys.a, retries: 4 });
  const job = await client.submit({ files: [{ name: 'a.txt', data: new TextEncoder().encode('a note') }] });
  await server.close();
  const back = new Promise<RunningServer>((resolve, reject) => setTimeout(() => void startServer({ ream, host: '127.0.0.1', port: PORT, auth: { mode: 'on' } }).then(resolve, reject), 300));
  try {
    assert.equal((await client.getJob(job.id)).id, job.id);
  } finally {
    server = await back;
  }
  await server.close();
  await assert.rejects(client.cancel(job.id), { code: 'io_error' });
  await assert.rejects(new ReamClient({ baseUrl: server.url, retries: 0 }).getJob(job.id), { code: 'io_error' }, 'retries: 0 sends it once');
});

test('a GET answered 429 is sent again after its Retry-After', async () => {
  const server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, rateLimit: { requestsPerMinute: 60 } });
  try {
    const client = new ReamClient({ baseUrl: server.url, apiKey: keys.b });
    // The bucket holds a minute's worth: spend it at once, then the next calls wait their turn.
    const burst = await Promise.all(Array.from({ length: 80 }, () => fetch(`${server.url}/v1/me`, { headers: { authorization: `Bearer ${keys.b}` } }).then((answer) => answer.status)));
    assert.ok(burst.includes(429), 'the bucket is spent');
    assert.equal((await client.me()).tenantId, 'tenant-b');
  } finally {
    await server.close();
  }
});
