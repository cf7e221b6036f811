// A WebSocket holds its credentials no longer than HTTP does: a key revoked while a socket is
// open closes it (1008) and its messages are refused; a ticket issued before the revocation
// opens nothing; and every message takes a token of the subject's rate limit, as a request does.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Readable } from 'node:stream';
import WebSocket from 'ws';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { issueApiKey } from '../../src/server/auth/api-keys.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { makePdf } from '../support/make-pdf.ts';

let dir: string;
let ream: Ream;
let server: RunningServer;
let wsUrl: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-ws-credentials-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, rateLimit: { requestsPerMinute: 20 }, heartbeatMs: 200 });
  wsUrl = `${server.url.replace(/^http/, 'ws')}/v1/ws`;
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

async function open(token: string, url = wsUrl): Promise<{ socket: WebSocket; messages: Array<{ type: string; code?: string }> }> {
  const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` } });
  const messages: Array<{ type: string; code?: string }> = [];
  socket.on('message', (data: Buffer) => messages.push(JSON.parse(data.toString('utf8')) as { type: string; code?: string }));
  await once(socket, 'open');
  return { socket, messages };
}

async function ticketOf(token: string): Promise<string> {
  const response = await fetch(`${server.url}/v1/ws-ticket`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  assert.equal(response.status, 201);
  return ((await response.json()) as { ticket: string }).ticket;
}

test('a key revoked while its socket is open: the socket is closed (1008) with an unauthorized error, and its ticket opens nothing more', async () => {
  const store = adaptersOf(ream).store;
  const { record, token } = await issueApiKey(store, { tenantId: 'tenant-r', name: 'soon revoked', role: 'user' });
  const ticket = await ticketOf(token);
  const { socket, messages } = await open(token);
  const closed = once(socket, 'close');
  await store.revokeApiKey(record.id, Date.now());
  const [code] = (await closed) as [number];
  assert.equal(code, 1008);
  assert.ok(messages.some((m) => m.type === 'error' && m.code === 'unauthorized'), JSON.stringify(messages));
  // The ticket was issued before the revocation: refused at the upgrade.
  const late = new WebSocket(`${wsUrl}?ticket=${encodeURIComponent(ticket)}`);
  late.on('error', () => {}); // the refusal ends the handshake: expected
  const [, response] = (await once(late, 'unexpected-response')) as [unknown, { statusCode: number; resume(): void }];
  assert.equal(response.statusCode, 401);
  response.resume();
  late.terminate();
});

test('a key revoked mid-subscription: at once, its events stop and its next message is refused, between two heartbeats', async () => {
  // The default heartbeat (15 s): nothing here may wait for it.
  const quiet = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } });
  const release = await (async () => {
    const store = adaptersOf(ream).store;
    const { record, token } = await issueApiKey(store, { tenantId: 'tenant-w', name: 'watching', role: 'user' });
    const job = await ream.createJob({ tenantId: 'tenant-w' });
    const hold = ream.holdOpen(job.id);
    const { socket, messages } = await open(token, `${quiet.url.replace(/^http/, 'ws')}/v1/ws`);
    socket.send(JSON.stringify({ type: 'subscribe', jobId: job.id }));
    socket.send(JSON.stringify({ type: 'get_job_status', jobId: job.id, requestId: 'before' }));
    while (!messages.some((m) => m.type === 'job_status')) await new Promise((resolve) => setTimeout(resolve, 20));
    await store.revokeApiKey(record.id, Date.now());
    const revokedAt = messages.length;
    const closed = once(socket, 'close');
    // Work on the job makes events; the revoked subscriber must get none of them.
    await ream.addStream(job.id, Readable.from([Buffer.from(await makePdf({ pages: ['after the revocation'] }))]), 'late.pdf');
    socket.send(JSON.stringify({ type: 'get_job_status', jobId: job.id, requestId: 'after' }));
    const [code] = (await Promise.race([closed, new Promise((resolve) => setTimeout(() => resolve([0]), 3_000))])) as [number];
    assert.equal(code, 1008, 'closed at once, not at the next heartbeat');
    const after = messages.slice(revokedAt);
    assert.deepEqual(after.filter((m) => m.type !== 'error'), [], `nothing answered after the revocation: ${JSON.stringify(after)}`);
    assert.ok(after.some((m) => m.code === 'unauthorized'));
    return hold;
  })().finally(() => quiet.close());
  await release();
});

test('each message takes a token of the rate limit: past it, messages answer rate_limited and the socket stays open', async () => {
  const { token } = await issueApiKey(adaptersOf(ream).store, { tenantId: 'tenant-q', name: 'chatty', role: 'user' });
  const { socket, messages } = await open(token);
  for (let i = 0; i < 40; i++) socket.send(JSON.stringify({ type: 'get_job_status', jobId: `job_${i}` }));
  while (messages.filter((m) => m.type === 'error').length < 40) await new Promise((resolve) => setTimeout(resolve, 20));
  const codes = messages.filter((m) => m.type === 'error').map((m) => m.code);
  assert.ok(codes.includes('not_found'), 'the first ones are answered');
  assert.ok(codes.filter((c) => c === 'rate_limited').length >= 15, `most past 20 a minute are refused: ${codes.join(' ')}`);
  assert.equal(socket.readyState, WebSocket.OPEN);
  socket.close();
});

test('an event stream (SSE) of a key revoked while it is open ends', async () => {
  const store = adaptersOf(ream).store;
  const { record, token } = await issueApiKey(store, { tenantId: 'tenant-s', name: 'streaming', role: 'user' });
  // A job that stays open (no file yet): its stream would follow it until it ends.
  const job = await ream.createJob({ tenantId: 'tenant-s' });
  const release = ream.holdOpen(job.id);
  try {
    const response = await fetch(`${server.url}/v1/jobs/${job.id}/events`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 200);
    const reader = response.body?.getReader();
    assert.ok(reader);
    await reader.read(); // the stream's opening comment
    await store.revokeApiKey(record.id, Date.now());
    const ended = (async () => {
      for (;;) if ((await reader.read()).done) return true;
    })();
    assert.equal(await Promise.race([ended, new Promise((resolve) => setTimeout(() => resolve(false), 5_000))]), true, 'the stream ended');
  } finally {
    await release();
  }
});
