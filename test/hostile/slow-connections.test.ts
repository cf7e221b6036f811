// Connections that trickle their headers (slowloris), many from one client: each is closed with
// a 408 once its headers are late, a client over its connection count is answered 429 at once,
// and another client's requests are answered all along.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { clientKey, HEADERS_TIMEOUT_MS, parseExemptRange } from '../../src/server/connection-limits.ts';

let dir: string;
let ream: Ream;
let server: RunningServer;
const LIMIT = 5;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-slow-connections-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, work: false });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, connectionLimit: { perClient: LIMIT, exemptLoopback: false } });
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

interface Held {
  socket: Socket;
  answer: () => string;
  closed: Promise<number>;
}

/** A connection that sends the start of a request's headers, then a header byte every 500 ms. */
async function trickling(): Promise<Held> {
  const socket = connect(Number(new URL(server.url).port), '127.0.0.1');
  await once(socket, 'connect');
  let answer = '';
  socket.on('data', (data: Buffer) => (answer += data.toString('latin1')));
  socket.on('error', () => undefined);
  socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
  const started = Date.now();
  const drip = setInterval(() => socket.writable && socket.write('a'), 500);
  const closed = once(socket, 'close').then(() => {
    clearInterval(drip);
    return Date.now() - started;
  });
  return { socket, answer: () => answer, closed };
}

/** A connection to `url`'s port, open (nothing sent), kept in `into` so the test can close it. */
async function openConnection(url: string, into: Socket[]): Promise<Socket> {
  const socket = connect(Number(new URL(url).port), '127.0.0.1');
  socket.on('error', () => undefined);
  into.push(socket);
  await once(socket, 'connect');
  return socket;
}

test('a client over its connection count is answered 429 at once; its trickled connections are closed with 408 once their headers are late', async () => {
  const held = await Promise.all(Array.from({ length: LIMIT }, trickling));
  try {
    const over = await trickling();
    const openMs = await Promise.race([over.closed, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 5_000))]);
    assert.notEqual(openMs, -1, 'the connection over the count is closed');
    assert.match(over.answer(), /^HTTP\/1\.1 429 /);
    assert.match(over.answer(), /"code":"rate_limited"/);
    // Each trickled connection is closed once its headers are late: within the timeout and the
    // check interval, not the 60 to 90 s of Node's defaults.
    const closedAfter = await Promise.race([Promise.all(held.map((h) => h.closed)), new Promise<number[]>((resolve) => setTimeout(() => resolve([]), 45_000))]);
    assert.equal(closedAfter.length, LIMIT, 'every trickled connection closed within 45 s');
    for (const h of held) assert.match(h.answer(), /^HTTP\/1\.1 408 /);
    assert.ok(Math.max(...closedAfter) < HEADERS_TIMEOUT_MS + 10_000, `closed after ${Math.max(...closedAfter)} ms`);
    // Their room is free again, once the server has seen them close.
    let status = 0;
    for (let i = 0; i < 20 && status !== 200; i++) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await fetch(`${server.url}/healthz`)).status;
    }
    assert.equal(status, 200);
  } finally {
    for (const h of held) h.socket.destroy();
  }
});

test('loopback peers are exempt by default: a reverse proxy on the machine is one address', async () => {
  const open = await startServer({ ream, host: '127.0.0.1', port: 0, connectionLimit: { perClient: 1 } });
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < 3; i++) await openConnection(open.url, sockets);
    assert.equal((await fetch(`${open.url}/healthz`)).status, 200);
  } finally {
    for (const socket of sockets) socket.destroy();
    await open.close();
  }
});

test('a reverse proxy on another address, named exempt, holds more connections than the limit', async () => {
  // As a proxy in another container is seen: not loopback (the exemption of loopback is off here).
  const proxied = await startServer({ ream, host: '127.0.0.1', port: 0, connectionLimit: { perClient: 2, exemptLoopback: false, exempt: ['10.0.0.0/8', '127.0.0.0/8'] } });
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < 4; i++) await openConnection(proxied.url, sockets);
    assert.equal((await fetch(`${proxied.url}/healthz`)).status, 200);
  } finally {
    for (const socket of sockets) socket.destroy();
    await proxied.close();
  }
  // A range that does not hold the peer exempts nothing; what is neither an address nor a range is refused.
  const other = await startServer({ ream, host: '127.0.0.1', port: 0, connectionLimit: { perClient: 1, exemptLoopback: false, exempt: ['10.0.0.7', 'fd00::/8'] } });
  const held: Socket[] = [];
  try {
    await openConnection(other.url, held);
    assert.equal((await fetch(`${other.url}/healthz`)).status, 429);
  } finally {
    for (const socket of held) socket.destroy();
    await other.close();
  }
  assert.throws(() => parseExemptRange('proxy.internal'), /not an IP address or a CIDR range/);
});

test('a keep-alive connection waiting idle gives way to a new one of its client; one still sending its request does not', async () => {
  const limited = await startServer({ ream, host: '127.0.0.1', port: 0, connectionLimit: { perClient: 2, exemptLoopback: false } });
  const pool = new Agent({ keepAlive: true });
  const get = (agent: Agent | false): Promise<number> => new Promise((resolve, reject) => {
    const req = request(`${limited.url}/healthz`, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
  const held: Socket[] = [];
  try {
    // The pool's two connections answered and wait, idle, for its next requests.
    assert.deepEqual(await Promise.all([get(pool), get(pool)]), [200, 200]);
    assert.equal(await get(false), 200, 'a new connection of the same client is answered');
    // Connections still sending their first request's headers are not idle: past them, 429.
    for (let i = 0; i < 2; i++) {
      (await openConnection(limited.url, held)).write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(await get(false), 429);
  } finally {
    pool.destroy();
    for (const socket of held) socket.destroy();
    await limited.close();
  }
});

test('a client is an IPv4 address or an IPv6 /64', () => {
  assert.equal(clientKey('203.0.113.7'), '203.0.113.7');
  assert.equal(clientKey('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(clientKey('2001:db8:1:2:aaaa::1'), clientKey('2001:db8:1:2:bbbb::9'));
  assert.notEqual(clientKey('2001:db8:1:2::1'), clientKey('2001:db8:1:3::1'));
});
