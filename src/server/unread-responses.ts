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
 * Bytes the client has not taken of what the server wrote: in the response and socket buffers,
 * and in libuv (a single large write stays one write in the buffers until the kernel took it all).
 */
function unreadBytes(res: ServerResponse, socket: Socket): number {
  const queued = (socket as unknown as { _handle?: HandleQueue | null })._handle?.writeQueueSize ?? 0;
  return res.writableLength + queued;
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
    const large = payload !== null && typeof payload === 'object' && ('pipe' in payload || (Buffer.isBuffer(payload) && payload.length > 64 * 1024));
    if (large || (typeof payload === 'string' && payload.length > 64 * 1024)) watchProgress(reply.raw, request.log, stallMs);
  });
}

function watchProgress(res: ServerResponse, log: FastifyBaseLogger, stallMs: number): void {
  const socket = res.socket;
  // A client gone before the answer: its 'close' came already, and would never stop the timer.
  if (socket === null || res.closed || socket.destroyed) return;
  let written = socket.bytesWritten;
  let least = Number.POSITIVE_INFINITY;
  let since = Date.now();
  const timer = setInterval(() => {
    const unread = unreadBytes(res, socket);
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
