// A JSON body sent a byte at a time: the connection is closed at the body's deadline, rather
// than held for as long as the client likes; a body that comes in time is answered as ever.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';

let dir: string;
let ream: Ream;
let server: RunningServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-slow-body-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, jsonBodyDeadlineMs: 500 });
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

/**
 * Sends `head` (a request's headers and the first byte of its body) on a raw socket, then a byte
 * every 100 ms until the server closes the connection or `limitMs` passes (an error). Answers
 * what the server sent and how long the connection stayed open.
 */
async function trickle(head: string, limitMs: number, url = server.url): Promise<{ answer: string; openMs: number }> {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  await once(socket, 'connect');
  let answer = '';
  socket.on('data', (data: Buffer) => (answer += data.toString('latin1')));
  // A reset is a close too: the server may end the connection while a drip is on its way.
  socket.on('error', () => undefined);
  socket.write(head);
  const started = Date.now();
  const drip = setInterval(() => socket.write(' '), 100);
  try {
    await Promise.race([once(socket, 'close'), new Promise((_, reject) => setTimeout(() => reject(new Error(`still open after ${limitMs / 1000} s`)), limitMs))]);
  } finally {
    clearInterval(drip);
    socket.destroy();
  }
  return { answer, openMs: Date.now() - started };
}

test('a JSON body that has not all come by its deadline: the connection is closed', async () => {
  // The deadline is 0.5 s; a busy machine may fire it late, never 20 times late.
  const { openMs } = await trickle('POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{', 10_000);
  assert.ok(openMs < 10_000, `closed after ${openMs} ms`);
});

test('a body refused before it has come (a type no route reads): answered at once, the connection closed within 10 s of the answer', async () => {
  const { answer } = await trickle('POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100000\r\n\r\na', 15_000);
  assert.match(answer, /^HTTP\/1\.1 415 /);
});

test('a JSON body in time is answered as ever', async () => {
  const response = await fetch(`${server.url}/v1/jobs/estimate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ documents: 1 }) });
  assert.equal(response.status, 200, await response.clone().text());
});

test('a file body that stops coming: the connection is closed once it has been idle; one that keeps coming is not', async () => {
  const idle = await startServer({ ream, host: '127.0.0.1', port: 0, bodyIdleMs: 700 });
  try {
    const { port } = new URL(idle.url);
    const head = `POST /v1/documents HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 100000\r\n\r\n`
      + '--b\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nsome';
    const socket = connect(Number(port), '127.0.0.1');
    await once(socket, 'connect');
    socket.on('error', () => undefined);
    socket.write(head);
    const started = Date.now();
    const closed = await Promise.race([once(socket, 'close').then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 5_000))]);
    socket.destroy();
    assert.equal(closed, true, 'closed');
    assert.ok(Date.now() - started >= 600, 'not before it was idle');
    // A byte every 100 ms: slow, but coming. Still open well past the idle time.
    const dripping = await trickle(head, 2_000, idle.url).then(() => 'closed', (error: unknown) => String(error));
    assert.match(dripping, /still open/);
  } finally {
    await idle.close();
  }
});
