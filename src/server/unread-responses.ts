import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { UNREAD_WAIT_MS } from './follow-events.ts';

/** How often a download's progress is looked at, in ms. */
const PROGRESS_POLL_MS = 1_000;

/** libuv's bytes not yet taken by the kernel, on the socket's handle (Node's own, untyped). */
interface HandleQueue {
  writeQueueSize?: number;
}

/**
 * Bytes libuv holds of the socket's writes, not yet taken by the kernel: a single large write
 * stays one write in the response and socket buffers until the kernel took it all, so only this
 * shows a client taking its bytes. Undefined where the handle has no such count (Node's own,
 * untyped field: a version or a kind of socket without it).
 */
function queuedInHandle(socket: Socket): number | undefined {
  const queued = (socket as unknown as { _handle?: HandleQueue | null })._handle?.writeQueueSize;
  return typeof queued === 'number' ? queued : undefined;
}

/**
 * Cuts a response whose client has stopped reading: bytes wait unread for it and none has gone
 * for `stallMs` (default {@link UNREAD_WAIT_MS}, as an event subscriber's replay). A download
 * (a report, results, an export) to a client that never read held its connection, the blob or
 * query stream behind it, and what was buffered, for as long as the client stayed connected.
 * A slow reader goes on: any byte taken counts. A response with nothing unread (a stream
 * waiting for its next item) is never cut here.
 */
export function cutUnreadResponses(app: FastifyInstance, stallMs = UNREAD_WAIT_MS): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    done(null, payload);
    // Small answers leave the server at once; a stream or a large body may wait on its client.
    const stream = payload !== null && typeof payload === 'object' && 'pipe' in payload;
    const large = (Buffer.isBuffer(payload) || typeof payload === 'string') && payload.length > 64 * 1024;
    if (stream || large) watchProgress(reply.raw, request.log, stallMs, !stream);
  });
}

/** `oneWrite`: the body goes as one write (a buffer or a string), not as a stream's pieces. */
function watchProgress(res: ServerResponse, log: FastifyBaseLogger, stallMs: number, oneWrite: boolean): void {
  const socket = res.socket;
  // A client gone before the answer: its 'close' came already, and would never stop the timer.
  if (socket === null || res.closed || socket.destroyed) return;
  let written = socket.bytesWritten;
  let least = Number.POSITIVE_INFINITY;
  let since = Date.now();
  const timer = setInterval(() => {
    const queued = queuedInHandle(socket);
    // One write whose taking cannot be seen: a reader could not be told from none, so none is cut.
    if (queued === undefined && oneWrite) return;
    // What waits in the response and socket buffers, and in libuv.
    const unread = res.writableLength + (queued ?? 0);
    // Progress: more was written (a stream goes on once its client took some), or less waits.
    if (unread === 0 || socket.bytesWritten !== written || unread < least) {
      written = socket.bytesWritten;
      least = unread === 0 ? Number.POSITIVE_INFINITY : unread;
      since = Date.now();
      return;
    }
    if (Date.now() - since < stallMs) return;
    log.warn({ unreadBytes: unread, stallMs }, 'a response was not read: connection closed');
    clearInterval(timer);
    socket.destroy();
  }, Math.min(PROGRESS_POLL_MS, stallMs));
  timer.unref();
  res.once('close', () => clearInterval(timer));
}
