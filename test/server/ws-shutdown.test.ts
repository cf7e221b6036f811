import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';
import { startServer } from '../../src/server/app.ts';

// A WebSocket peer that went away without a word (a laptop asleep, a dropped NAT entry) never
// answers the server's closing handshake: stopping the server must not wait the 30 s the ws
// library gives it, past the grace the server gives requests in progress.

test('close() ends a WebSocket peer that does not answer the closing handshake within the grace', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-ws-shutdown-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const ream = await createReam({ dataDir: dir, work: false });
  t.after(() => ream.close());
  const server = await startServer({ ream, port: 0, closeGraceMs: 300 });
  const { port } = new URL(server.url);
  const socket = connect(Number(port), '127.0.0.1');
  t.after(() => socket.destroy());
  socket.write(['GET /v1/ws HTTP/1.1', `Host: 127.0.0.1:${port}`, 'Connection: Upgrade', 'Upgrade: websocket', 'Sec-WebSocket-Version: 13', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', '', ''].join('\r\n'));
  const [first] = (await once(socket, 'data')) as [Buffer];
  assert.match(first.toString('latin1'), /^HTTP\/1\.1 101/);
  // This peer reads nothing more and answers nothing: not even the close frame.
  socket.pause();
  const started = Date.now();
  await server.close();
  const took = Date.now() - started;
  assert.ok(took < 5_000, `the server stopped ${took} ms after close(), held by a silent WebSocket peer`);
});
