import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ReamError } from '../../src/errors.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import type { JobView } from '../../src/runtime/job-view.ts';
import { buildServer, startServer, type RunningServer } from '../../src/server/app.ts';
import { assertProblem, rawRequest, type Answer } from '../support/problem.ts';

/*
 * Without auth the server answers only loopback Host names and the host of --public-url, and a
 * browser's state-changing request must come from the server's own origin (or the public URL's,
 * or an allowed CORS origin): against DNS rebinding and cross-site posts. Every request here
 * goes to 127.0.0.1; only its Host and Origin headers are forged.
 */

const PUBLIC_URL = 'https://ream.example.com/';
const CORS_ORIGIN = 'https://app.example.com';

let dir: string;
let ream: Ream;
let server: RunningServer;
let documentId: string;
let own: string; // the server's own origin, as a browser on its dashboard sends it
let hostPort: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-host-origin-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, publicUrl: PUBLIC_URL, cors: { origins: [CORS_ORIGIN] } });
  own = server.url;
  hostPort = new URL(server.url).host;
  const upload = new FormData();
  upload.append('file', new Blob(['stored text\n'], { type: 'text/plain' }), 'stored.txt');
  const stored = (await (await fetch(`${server.url}/v1/documents`, { method: 'POST', body: upload })).json()) as { items: Array<{ id: string }> };
  documentId = stored.items[0]?.id ?? '';
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

function send(method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Answer> {
  const json: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  return rawRequest(`${server.url}${path}`, { method, headers: { ...json, ...headers }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
}

const createJob = (headers: Record<string, string>): Promise<Answer> => send('POST', '/v1/jobs', headers, { documents: [documentId] });

async function jobCount(): Promise<number> {
  return ((await (await fetch(`${server.url}/v1/jobs?limit=500`)).json()) as { items: JobView[] }).items.length;
}

/** A WebSocket upgrade of /v1/ws: 101, or the status it was refused with. */
function upgrade(headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const sent = request(`${server.url}/v1/ws`, {
      agent: false,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    sent.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve(response.statusCode ?? 0);
    });
    sent.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    sent.on('error', reject);
    sent.end();
  });
}

describe('Host check (auth off)', () => {
  test('a Host that is not a loopback name or the public URL host gets 403 forbidden, on every route', async () => {
    const hosts = [
      'evil.example.com',
      `evil.example.com:${new URL(server.url).port}`,
      '127.0.0.1.evil.example',
      'localhost.evil.example',
      'ream.example.com.evil.example',
      '10.0.0.5',
      '[::2]',
      `localhost:1@evil.example`,
      'localhost/evil',
    ];
    for (const host of hosts) {
      for (const [method, path] of [['GET', '/v1/jobs'], ['GET', '/healthz'], ['GET', '/ui/'], ['POST', '/v1/jobs'], ['OPTIONS', '/v1/uploads']] as const) {
        const answer = await send(method, path, { host });
        const problem = assertProblem(answer, 403, 'forbidden');
        assert.match(problem.detail, /is not answered while auth is off: only loopback names/, `${method} ${path} Host ${host}`);
      }
    }
    assert.equal(await upgrade({ host: 'evil.example.com' }), 403, 'the WebSocket upgrade too');
  });

  test('DNS rebinding: a foreign Host cannot create jobs nor read them', async () => {
    const before = await jobCount();
    assertProblem(await createJob({ host: 'rebound.evil.example', origin: 'http://rebound.evil.example' }), 403, 'forbidden');
    assertProblem(await createJob({ host: 'rebound.evil.example' }), 403, 'forbidden');
    assert.equal(await jobCount(), before, 'no job was made');
  });

  test('loopback names (any port, any case) and the public URL host are answered', async () => {
    const port = new URL(server.url).port;
    for (const host of [hostPort, `localhost:${port}`, 'LocalHost', `[::1]:${port}`, '127.0.0.2', `[::ffff:127.0.0.1]:${port}`, 'ream.example.com', 'ream.example.com:443', 'REAM.example.com']) {
      const answer = await send('GET', '/v1/jobs', { host });
      assert.equal(answer.status, 200, `Host ${host}: ${answer.body}`);
    }
  });
});

describe('Origin check on state-changing requests (auth off)', () => {
  test('a cross-site POST, DELETE, PATCH or WebSocket upgrade is refused with 403 forbidden', async () => {
    const before = await jobCount();
    for (const origin of ['https://evil.example', 'null', 'http://localhost.evil.example', 'http://127.0.0.1', `http://127.0.0.1:${Number(new URL(server.url).port) + 1}`]) {
      const problem = assertProblem(await createJob({ host: hostPort, origin }), 403, 'forbidden');
      assert.match(problem.detail, /may not POST here while auth is off/, origin);
      assertProblem(await send('DELETE', '/v1/jobs/job_x', { host: hostPort, origin }), 403, 'forbidden');
      assertProblem(await send('POST', '/v1/uploads', { host: hostPort, origin, 'tus-resumable': '1.0.0', 'upload-length': '10' }), 403, 'forbidden');
      assertProblem(await send('PATCH', '/v1/uploads/u_x', { host: hostPort, origin, 'tus-resumable': '1.0.0', 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }), 403, 'forbidden');
      assert.equal(await upgrade({ host: hostPort, origin }), 403, `upgrade from ${origin}`);
    }
    assert.equal(await jobCount(), before, 'no job was made');
  });

  test('the server\'s own origin, the public URL\'s and a CORS origin may; so may a request without Origin', async () => {
    const before = await jobCount();
    assert.equal((await createJob({ host: hostPort, origin: own })).status, 202);
    assert.equal((await createJob({ host: `localhost:${new URL(server.url).port}`, origin: `http://localhost:${new URL(server.url).port}` })).status, 202);
    assert.equal((await createJob({ host: 'ream.example.com', origin: 'https://ream.example.com' })).status, 202);
    assert.equal((await createJob({ host: hostPort, origin: CORS_ORIGIN })).status, 202);
    assert.equal((await createJob({ host: hostPort })).status, 202, 'curl, the SDK: no Origin');
    assert.equal(await jobCount(), before + 5);
    const upload = await send('POST', '/v1/uploads', { host: hostPort, origin: own, 'tus-resumable': '1.0.0', 'upload-length': '10' });
    assert.equal(upload.status, 201, upload.body);
    assert.equal(await upgrade({ host: hostPort, origin: own }), 101);
    assert.equal(await upgrade({ host: hostPort }), 101);
  });

  test('reads carry on whatever their Origin (CORS decides what a page may see)', async () => {
    const answer = await send('GET', '/v1/jobs', { host: hostPort, origin: 'https://evil.example' });
    assert.equal(answer.status, 200);
  });
});

describe('with auth on, Host and Origin are not restricted', () => {
  test('a foreign Host reaches the routes (and their authentication)', async () => {
    const authed = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } });
    try {
      const health = await rawRequest(`${authed.url}/healthz`, { headers: { host: 'ream.behind-a-proxy.example' } });
      assert.equal(health.status, 200, health.body);
      const jobs = await rawRequest(`${authed.url}/v1/jobs`, { method: 'POST', headers: { host: 'ream.behind-a-proxy.example', origin: 'https://evil.example' } });
      assertProblem(jobs, 401, 'unauthorized');
    } finally {
      await authed.close();
    }
  });
});

test('a public URL that is not http(s) is refused', () => {
  assert.throws(() => buildServer({ ream, publicUrl: 'ftp://ream.example.com' }), (error: unknown) => error instanceof ReamError && error.code === 'validation_failed');
});
