// A download whose client never reads (a raw socket that stops after the headers) is cut once
// nothing has gone for as long as an event subscriber may leave its replay unread; a slow reader is not.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { neverReading } from '../support/never-reading.ts';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { UNREAD_WAIT_MS } from '../../src/server/follow-events.ts';
import { cutUnreadResponses } from '../../src/server/unread-responses.ts';

/** Far more than the kernel's socket buffers hold on both ends. */
const BODY_BYTES = 64 * 1024 * 1024;
const PIECE = Buffer.alloc(64 * 1024, 0x61);

let app: FastifyInstance;
let port: number;

before(async () => {
  app = Fastify();
  cutUnreadResponses(app);
  app.get('/stream', (_request, reply) => reply.type('application/octet-stream').send(Readable.from((function* () {
    for (let sent = 0; sent < BODY_BYTES; sent += PIECE.length) yield PIECE;
  })())));
  app.get('/buffer', (_request, reply) => reply.type('application/octet-stream').send(Buffer.alloc(BODY_BYTES, 0x62)));
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
});
after(async () => {
  await app.close();
});

for (const path of ['/stream', '/buffer']) {
  test(`${path}: a client that reads nothing past the headers is cut; the server holds nothing for it`, { timeout: 90_000 }, async () => {
    const { socket, received } = await neverReading(port, path);
    await new Promise((resolve) => setTimeout(resolve, UNREAD_WAIT_MS + 3_000));
    const closed = once(socket, 'close').then(() => true);
    socket.resume();
    const cut = await Promise.race([closed, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 20_000))]);
    socket.destroy();
    assert.equal(cut, true, `the connection was not cut: ${received()} bytes read`);
    assert.ok(received() < BODY_BYTES, `${received()} bytes read of ${BODY_BYTES}`);
  });
}

/** Reads `path` whole with a pause of `pauseMs` after every 16 MiB; answers the bytes read. */
async function readSlowly(base: string, path: string, pauseMs: number): Promise<number> {
  const answer = await fetch(`${base}${path}`);
  let got = 0;
  let pauses = 0;
  for await (const chunk of answer.body ?? []) {
    got += (chunk as Uint8Array).length;
    // Now and then a pause shorter than the bound: the download goes on after it.
    if (got > (pauses + 1) * 16 * 1024 * 1024) {
      pauses++;
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }
  return got;
}

for (const path of ['/stream', '/buffer']) {
  test(`${path}: a client that reads slowly gets the whole body`, { timeout: 120_000 }, async () => {
    assert.equal(await readSlowly(`http://127.0.0.1:${port}`, path, 2_000), BODY_BYTES);
  });
}

test('where a socket does not show what the kernel took of a write, a slow reader of one large write is not cut', { timeout: 120_000 }, async () => {
  const blind = Fastify();
  cutUnreadResponses(blind, 1_000);
  // As on a Node whose socket handle has no count of bytes queued in libuv (an untyped field of its own).
  blind.server.on('connection', (socket: Socket) => {
    Object.defineProperty((socket as unknown as { _handle: object })._handle, 'writeQueueSize', { value: undefined });
  });
  blind.get('/buffer', (_request, reply) => reply.type('application/octet-stream').send(Buffer.alloc(BODY_BYTES, 0x62)));
  await blind.listen({ host: '127.0.0.1', port: 0 });
  try {
    // Each pause outlasts the bound: only a watch that cannot see this reader's progress leaves it be.
    const read = await readSlowly(`http://127.0.0.1:${(blind.server.address() as { port: number }).port}`, '/buffer', 2_500).catch((error: unknown) => error);
    assert.equal(read, BODY_BYTES, 'the slow reader was cut');
  } finally {
    await blind.close();
  }
});

test('a large answer to a client gone before it leaves no progress timer behind', async (t) => {
  const timers = new Set<unknown>();
  const setTimer = globalThis.setInterval;
  const clearTimer = globalThis.clearInterval;
  t.mock.method(globalThis, 'setInterval', (...args: Parameters<typeof setInterval>) => {
    const timer = setTimer(...args);
    timers.add(timer);
    return timer;
  });
  t.mock.method(globalThis, 'clearInterval', (timer: NodeJS.Timeout | undefined) => {
    timers.delete(timer);
    clearTimer(timer);
  });
  const left = Fastify();
  cutUnreadResponses(left, 1_000);
  let received = (): void => undefined;
  const requestReceived = new Promise<void>((resolve) => (received = resolve));
  let answered = (): void => undefined;
  const answerSent = new Promise<void>((resolve) => (answered = resolve));
  left.get('/late', async (request, reply) => {
    received();
    // The answer comes once its client has left.
    if (!request.raw.socket.destroyed) await once(request.raw.socket, 'close');
    void reply.type('application/octet-stream').send(Buffer.alloc(1024 * 1024, 0x63));
    answered();
    return reply;
  });
  await left.listen({ host: '127.0.0.1', port: 0 });
  try {
    const socket = connect((left.server.address() as { port: number }).port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write('GET /late HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await requestReceived;
    socket.destroy();
    await answerSent;
    assert.equal(timers.size, 0, 'a timer still looks at the gone client\'s response');
  } finally {
    await left.close();
  }
});

test('a client that trickles (a little now and then, each before the stall bound) is cut under the least read rate; one that keeps up is not', { timeout: 120_000 }, async () => {
  const rated = Fastify();
  // Stall bound 2 s, and at least 32 MiB/s while bytes wait (a reader on loopback that keeps up takes far more).
  cutUnreadResponses(rated, 2_000, 32 * 1024 * 1024);
  rated.get('/stream', (_request, reply) => reply.type('application/octet-stream').send(Readable.from((function* () {
    for (let sent = 0; sent < BODY_BYTES; sent += PIECE.length) yield PIECE;
  })())));
  rated.get('/buffer', (_request, reply) => reply.type('application/octet-stream').send(Buffer.alloc(BODY_BYTES, 0x62)));
  // The server's end of the latest connection: a paused client would see the cut only once it reads again.
  let served: Socket | undefined;
  rated.server.on('connection', (socket: Socket) => (served = socket));
  await rated.listen({ host: '127.0.0.1', port: 0 });
  const ratedPort = (rated.server.address() as { port: number }).port;
  try {
    for (const path of ['/stream', '/buffer']) {
      // Paused from the start; every 200 ms it takes 512 KiB, about 2.5 MiB/s: the kernel takes some
      // at least every second (in bursts, as the receive window opens), so the stall bound alone never ends it.
      const socket = connect(ratedPort, '127.0.0.1');
      socket.on('error', () => undefined);
      await once(socket, 'connect');
      socket.pause();
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      let got = 0;
      let allowed = 0;
      const received = (): number => got;
      socket.on('data', (data: Buffer) => {
        got += data.length;
        if (got >= allowed) socket.pause();
      });
      socket.pause();
      while (served === undefined) await new Promise((resolve) => setTimeout(resolve, 10));
      const server = served;
      served = undefined;
      const trickle = setInterval(() => {
        allowed = got + 512 * 1024;
        socket.resume();
      }, 200);
      const closed = server.closed ? Promise.resolve(true) : once(server, 'close').then(() => true);
      const cut = await Promise.race([closed, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000))]);
      clearInterval(trickle);
      socket.destroy();
      assert.equal(cut, true, `${path}: the trickling client was not cut: ${received()} bytes read`);
      assert.ok(received() < BODY_BYTES, `${path}: ${received()} bytes read of ${BODY_BYTES}`);
      // A reader that keeps up gets the whole body under the same bound.
      assert.equal(await readSlowly(`http://127.0.0.1:${ratedPort}`, path, 0), BODY_BYTES, `${path}: a reader that keeps up was cut`);
    }
  } finally {
    await rated.close();
  }
});
