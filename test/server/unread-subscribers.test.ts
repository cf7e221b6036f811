// A subscriber that stops reading (SSE or WebSocket) is cut once what it left unread passes a
// bound, rather than having every event of the job queued for it in the server's memory.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { MAX_UNREAD_BYTES, UNREAD_WAIT_MS } from '../../src/server/follow-events.ts';

/** Stored events of the job: 4,000 of 5 KB, 20 MB, several times the bound and the kernel's socket buffers. */
const EVENTS = 4_000;
const MESSAGE = 'm'.repeat(5_000);

let dir: string;
let ream: Ream;
let server: RunningServer;
let jobId: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-unread-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
  server = await startServer({ ream, host: '127.0.0.1', port: 0 });
  const body = new FormData();
  body.append('file', new Blob(['a note']), 'a.txt');
  const response = await fetch(`${server.url}/v1/jobs`, { method: 'POST', body });
  assert.equal(response.status, 202, await response.clone().text());
  jobId = ((await response.json()) as { id: string }).id;
  const store = adaptersOf(ream).store;
  const progress = { documentsDone: 0, documentsTotal: 1, pagesDone: 0, pagesTotal: 1, percent: 0, etaSeconds: null };
  for (let i = 0; i < EVENTS; i++) await store.appendEvent({ type: 'stage.completed', jobId, tenantId: 'local', at: Date.now(), progress, message: MESSAGE });
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

test('an SSE client that reads nothing past the headers is cut, and resumed with Last-Event-ID gets every event once, in order', { timeout: 180_000 }, async () => {
  assert.ok(EVENTS * MESSAGE.length > 4 * MAX_UNREAD_BYTES);
  const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
  await once(socket, 'connect');
  socket.on('error', () => undefined);
  socket.write(`GET /v1/jobs/${jobId}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  let received = '';
  const onData = (data: Buffer): void => {
    received += data.toString('latin1');
  };
  socket.on('data', onData);
  while (!received.includes('\r\n\r\n')) await new Promise((resolve) => setTimeout(resolve, 10));
  socket.pause();

  // Longer than a subscriber may go without reading while its replay waits.
  await new Promise((resolve) => setTimeout(resolve, UNREAD_WAIT_MS + 3_000));
  const closed = once(socket, 'close').then(() => true);
  socket.resume();
  const cut = await Promise.race([closed, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20_000))]);
  socket.destroy();
  const events = received.match(/^id: \d+$/gm)?.length ?? 0;

  assert.equal(cut, true, `the stream was not cut: ${events} events read`);
  assert.ok(events < EVENTS, `${events} events`);

  // The cut client resumes after the last whole event it read (Last-Event-ID) and, reading, is
  // not cut: with what it had, every event once and in order (the job is still queued: the stream stays open).
  const headEnd = received.indexOf('\r\n\r\n');
  const body = received.slice(headEnd + 4);
  const stream = /^transfer-encoding: *chunked\r$/im.test(received.slice(0, headEnd + 2)) ? dechunk(body) : body;
  const had = seqsOf(stream.slice(0, stream.lastIndexOf('\n\n') + 2));
  assert.ok(had.length > 0, 'an event was read before the cut');
  const last = had.at(-1) ?? 0;
  const reader = await fetch(`${server.url}/v1/jobs/${jobId}/events`, { headers: { 'last-event-id': String(last) } });
  assert.equal(reader.status, 200);
  const decoder = new TextDecoder();
  let text = '';
  const resumed: number[] = [];
  for await (const chunk of reader.body ?? []) {
    text += decoder.decode(chunk as Uint8Array, { stream: true });
    // A piece without a frame's end is kept whole until the rest comes (slicing past -1 dropped
    // its first character: under load, the `i` of an `id:` line, and the event with it).
    const end = text.lastIndexOf('\n\n');
    if (end === -1) continue;
    resumed.push(...seqsOf(text.slice(0, end + 2)));
    text = text.slice(end + 2);
    if (had.length + resumed.length >= EVENTS + 1) break;
  }
  const all = [...had, ...resumed];
  assert.equal(all.length, EVENTS + 1, 'job.queued and the stored events');
  assert.deepEqual(all, all.map((_seq, i) => i + 1), 'every seq once, in order');
});

/**
 * The body of a chunked HTTP/1.1 response as far as it came (its last chunk may be cut short): a
 * chunk's size line can fall inside an event's `id:` line, which would hide that event.
 */
function dechunk(raw: string): string {
  let body = '';
  let at = 0;
  for (;;) {
    const lineEnd = raw.indexOf('\r\n', at);
    if (lineEnd === -1) return body;
    const size = Number.parseInt(raw.slice(at, lineEnd), 16);
    if (!Number.isFinite(size) || size === 0) return body;
    body += raw.slice(lineEnd + 2, lineEnd + 2 + size);
    at = lineEnd + 2 + size + 2;
    if (at > raw.length) return body;
  }
}

/** The seqs of the whole SSE frames in `text`, in order. */
function seqsOf(text: string): number[] {
  return [...text.matchAll(/^id: (\d+)$/gm)].map((match) => Number(match[1]));
}

test('a WebSocket peer that reads nothing is closed with 1008; one that reads gets every event', { timeout: 180_000 }, async () => {
  const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/v1/ws`);
  await once(socket, 'open');
  const closed = once(socket, 'close') as Promise<[number, Buffer]>;
  socket.send(JSON.stringify({ type: 'subscribe', jobId }));
  socket.pause();
  await new Promise((resolve) => setTimeout(resolve, UNREAD_WAIT_MS + 3_000));
  socket.resume();
  const result = await Promise.race([closed, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 20_000))]);
  socket.terminate();
  assert.ok(result !== undefined, 'the connection was not closed');
  assert.ok(result[0] === 1008 || result[0] === 1006, `closed with ${result[0]}`);

  const reader = new WebSocket(`${server.url.replace(/^http/, 'ws')}/v1/ws`);
  let seen = 0;
  const all = new Promise<void>((resolve) => reader.on('message', (data: Buffer) => {
    if ((JSON.parse(data.toString('utf8')) as { type: string }).type === 'event' && ++seen === EVENTS + 1) resolve();
  }));
  await once(reader, 'open');
  reader.send(JSON.stringify({ type: 'subscribe', jobId }));
  await all;
  assert.equal(reader.readyState, WebSocket.OPEN);
  reader.close();
});

test('a WebSocket peer that unsubscribes while its replay waits for it to read is not cut for the job it left', { timeout: 180_000 }, async () => {
  const socket = new WebSocket(`${server.url.replace(/^http/, 'ws')}/v1/ws`);
  await once(socket, 'open');
  let closedWith: number | undefined;
  socket.on('close', (code: number) => (closedWith = code));
  socket.send(JSON.stringify({ type: 'subscribe', jobId }));
  socket.pause();
  // The replay's first page fills what the connection holds: it waits for the peer to read.
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  socket.send(JSON.stringify({ type: 'unsubscribe', jobId }));
  // Longer than a subscriber may go without reading while its replay waits.
  await new Promise((resolve) => setTimeout(resolve, UNREAD_WAIT_MS + 3_000));
  const status = new Promise<boolean>((resolve) => {
    socket.on('message', (data: Buffer) => {
      if ((JSON.parse(data.toString('utf8')) as { type: string }).type === 'job_status') resolve(true);
    });
    socket.on('close', () => resolve(false));
  });
  socket.resume();
  socket.send(JSON.stringify({ type: 'get_job_status', jobId, requestId: 'after' }));
  const answered = await Promise.race([status, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20_000))]);
  socket.terminate();
  assert.equal(closedWith, undefined, `closed with ${closedWith}`);
  assert.equal(answered, true, 'the connection answers after the unsubscribe');
});
