// WebSocket for browsers and for the document service's clients: credentials as a subprotocol or
// a single-use ticket (a browser cannot set Authorization on a WebSocket), the `connected`
// greeting, server pings that drop a silent peer, the snake_case dialect, and a tenant's
// `notifications` channel. The browser case runs in Chromium.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium } from 'playwright-core';
import { WebSocket as WsSocket } from 'ws';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import type { JobView } from '../../src/server/views.ts';
import { requireOrSkip } from '../support/env.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { WsClient, type ServerMessage } from '../support/ws-client.ts';
import { issueTenantKeys } from '../support/tenant-keys.ts';

const CHROMIUM = '/usr/bin/chromium';
const HEARTBEAT_MS = 300;

let dir: string;
let ream: Ream;
let server: RunningServer;
let wsUrl: string;
let keyA: string;
let keyB: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-ws-browser-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, heartbeatMs: HEARTBEAT_MS });
  wsUrl = `${server.url.replace(/^http/, 'ws')}/v1/ws`;
  ({ a: keyA, b: keyB } = await issueTenantKeys(ream));
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

/** A job of one small PDF as `key`'s tenant (not waited for). */
async function submit(key: string, pages = 3): Promise<JobView> {
  const body = new FormData();
  body.append('options', '{"chunkPages":1}');
  body.append('file', new Blob([await makePdf({ pages: numberedPages('P', pages) })], { type: 'application/pdf' }), 'p.pdf');
  const response = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body, headers: { authorization: `Bearer ${key}` } });
  assert.equal(response.status, 202);
  return (await response.json()) as JobView;
}

async function ticket(key: string): Promise<string> {
  const response = await fetch(`${server.url}/v1/ws-ticket`, { method: 'POST', headers: { authorization: `Bearer ${key}` } });
  assert.equal(response.status, 201);
  const body = (await response.json()) as { ticket: string; expiresAt: number };
  assert.ok(body.expiresAt > Date.now());
  return body.ticket;
}

/** The HTTP status a refused upgrade answers (the socket never opens). */
function refusedStatus(url: string, protocols: string[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = new WsSocket(url, protocols);
    socket.on('unexpected-response', (_request, response) => resolve(response.statusCode ?? 0));
    socket.on('open', () => reject(new Error(`opened ${url}`)));
    socket.on('error', () => undefined);
  });
}

describe('WebSocket credentials a browser can send', () => {
  test('a bearer subprotocol: answered with ream.v1, never the token; a bad token is refused', async () => {
    const client = await WsClient.open(wsUrl, ['ream.v1', `bearer.${keyA}`]);
    try {
      assert.equal(client.socket.protocol, 'ream.v1');
      assert.deepEqual(client.greeting, { type: 'connected', protocol: 'ream.v1', tenantId: 'tenant-a', heartbeatMs: HEARTBEAT_MS });
    } finally {
      client.close();
    }
    assert.equal(await refusedStatus(wsUrl, ['ream.v1', 'bearer.ream_nope_nope']), 401);
    assert.equal(await refusedStatus(wsUrl), 401, 'no credentials at all');
  });

  test('a ticket opens one connection as its tenant, once; another tenant\'s job stays invisible', async () => {
    const jobB = await submit(keyB);
    const issued = await ticket(keyA);
    const client = await WsClient.open(`${wsUrl}?ticket=${issued}`);
    try {
      assert.equal(client.greeting?.tenantId, 'tenant-a');
      client.send({ type: 'get_job_status', jobId: jobB.id, requestId: 'x' });
      const answer = await client.next();
      assert.deepEqual([answer.type, answer.type === 'error' ? answer.code : ''], ['error', 'not_found']);
    } finally {
      client.close();
    }
    assert.equal(await refusedStatus(`${wsUrl}?ticket=${issued}`), 401, 'a ticket is single-use');
    assert.equal(await refusedStatus(`${wsUrl}?ticket=wst_forged`), 401);
    const anonymous = await fetch(`${server.url}/v1/ws-ticket`, { method: 'POST' });
    assert.equal(anonymous.status, 401, 'a ticket needs credentials');
  });

  test('in Chromium: a page subscribes with a subprotocol token and with a ticket', async (t) => {
    if (!requireOrSkip(t, existsSync(CHROMIUM), `no Chromium at ${CHROMIUM} (Debian package chromium)`)) return;
    const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}/ui/`); // same origin as the API, as the dashboard is
      const job = await submit(keyA, 2);
      const seen = await page.evaluate(async ({ url, key, jobId }) => {
        /** Opens a socket, subscribes to the job and collects event types to its end. */
        const follow = (socket: WebSocket): Promise<string[]> => new Promise((resolve, reject) => {
          const types: string[] = [];
          socket.onerror = () => reject(new Error('socket failed'));
          socket.onmessage = (message) => {
            const data = JSON.parse(String(message.data)) as { type: string; event?: { type: string } };
            if (data.type === 'connected') socket.send(JSON.stringify({ type: 'subscribe', jobId }));
            if (data.type === 'event' && data.event) types.push(data.event.type);
            if (data.event?.type === 'job.completed') {
              socket.close();
              resolve([socket.protocol, ...types]);
            }
          };
        });
        const byProtocol = await follow(new WebSocket(url, ['ream.v1', `bearer.${key}`]));
        const response = await fetch('/v1/ws-ticket', { method: 'POST', headers: { authorization: `Bearer ${key}` } });
        const { ticket: issued } = (await response.json()) as { ticket: string };
        const byTicket = await follow(new WebSocket(`${url}?ticket=${issued}`));
        return { byProtocol, byTicket };
      }, { url: wsUrl, key: keyA, jobId: job.id });
      assert.equal(seen.byProtocol[0], 'ream.v1');
      for (const types of [seen.byProtocol.slice(1), seen.byTicket.slice(1)]) {
        assert.equal(types[0], 'job.queued');
        assert.equal(types.at(-1), 'job.completed');
      }
    } finally {
      await browser.close();
    }
  });
});

describe('the connection', () => {
  test('the server pings: a peer that answers stays, one that never pongs is dropped', async () => {
    const open = (autoPong: boolean): Promise<WsSocket> => new Promise((resolve, reject) => {
      const socket = new WsSocket(wsUrl, { headers: { authorization: `Bearer ${keyA}` }, autoPong });
      socket.once('open', () => resolve(socket)).once('error', reject);
    });
    const [alive, silent] = await Promise.all([open(true), open(false)]);
    let pings = 0;
    alive.on('ping', () => pings++);
    // The silent peer misses its first pong: dropped at the next beat, long before 30 beats.
    const dropped = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), HEARTBEAT_MS * 30);
      silent.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    assert.ok(dropped, 'the silent peer was dropped');
    assert.equal(alive.readyState, WsSocket.OPEN, 'the answering peer is still connected');
    assert.ok(pings >= 1, `the answering peer was pinged (${pings})`);
    alive.close();
  });

  test('the document service\'s dialect: job_ids, job_progress, job_status_response, request_id', async () => {
    const client = await WsClient.open(wsUrl, ['ream.v1', `bearer.${keyA}`]);
    try {
      const job = await submit(keyA);
      client.send({ type: 'subscribe', job_ids: [job.id] });
      const progress: Array<Extract<ServerMessage, { type: 'job_progress' }>> = [];
      for (;;) {
        const message = await client.next();
        assert.equal(message.type, 'job_progress');
        progress.push(message);
        if (message.event === 'job.completed') break;
      }
      assert.ok(progress.every((m) => m.job_id === job.id));
      assert.deepEqual(progress.map((m) => m.seq), progress.map((_, i) => i + 1), 'gapless from 1');
      assert.equal(progress.at(-1)?.progress.pagesDone, 3);
      client.send({ type: 'get_job_status', job_id: job.id, request_id: 'q1' });
      const status = await client.next();
      assert.equal(status.type, 'job_status_response');
      assert.deepEqual(status.type === 'job_status_response' ? [status.job_id, status.status, status.request_id] : [], [job.id, 'succeeded', 'q1']);
      client.send({ type: 'get_job_status', job_id: 'job_nope', request_id: 'q2' });
      const missing = (await client.next()) as { type: string; code?: string; request_id?: string };
      assert.deepEqual([missing.type, missing.code, missing.request_id], ['error', 'not_found', 'q2']);
    } finally {
      client.close();
    }
  });

  test('notifications: the end of every job of one\'s own tenant, none of another\'s', async () => {
    const client = await WsClient.open(wsUrl, ['ream.v1', `bearer.${keyA}`]);
    try {
      client.send({ type: 'subscribe', channels: ['notifications'] });
      // A status answer after the subscribe: the channel is set up (messages run in order).
      const mine = await submit(keyA);
      client.send({ type: 'get_job_status', jobId: mine.id });
      await client.next((m) => m.type === 'job_status');
      const theirs = await submit(keyB);
      await ream.wait(theirs.id);
      await ream.wait(mine.id);
      const note = await client.next((m) => m.type === 'notification');
      assert.equal(note.type === 'notification' ? note.event.jobId : '', mine.id);
      assert.equal(note.type === 'notification' ? note.event.type : '', 'job.completed');
      // Another job of tenant a after tenant b's ended: the next notification is a's again.
      const second = await submit(keyA);
      await ream.wait(second.id);
      const next = await client.next((m) => m.type === 'notification');
      assert.equal(next.type === 'notification' ? next.event.jobId : '', second.id, 'tenant b\'s job end was not sent');
    } finally {
      client.close();
    }
  });
});
