import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { UNREAD_WAIT_MS } from './follow-events.ts';

/** How often a download's progress is looked at, in ms. */
const PROGRESS_POLL_MS = 1_000;

/**
 * The least a download's client must take while bytes wait for it, in bytes per second, measured
 * over each `stallMs`. 1 KiB/s is far below any real link (8 kbit/s); a reader under it (one
 * byte every few seconds, each of which reset the stall timer) held its connection, the blob or
 * query stream behind it and what was buffered for days on a large download.
 */
export const MIN_READ_BYTES_PER_SECOND = 1024;

/** libuv's bytes not yet taken by the kernel, on the socket's handle (Node's own, untyped). */
interface HandleQueue {
  writeQueueSize?: number;
}

/**
 * Bytes the kernel took of the socket's writes: those handed to libuv less those libuv still
 * holds. Undefined where the socket has no such counts (Node's own, untyped fields).
 */
function takenByKernel(socket: Socket, queued: number | undefined): number | undefined {
  const dispatched = (socket as unknown as { _bytesDispatched?: unknown })._bytesDispatched;
  return typeof dispatched === 'number' && queued !== undefined ? dispatched - queued : undefined;
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
 * A trickling reader is cut too: one that takes under `minBytesPerSecond` (default
 * {@link MIN_READ_BYTES_PER_SECOND}; 0: no minimum) over a `stallMs` during which bytes waited
 * for it all along. A reader that keeps up is never cut: a response with nothing unread (a
 * stream waiting for its next item, the client ahead of the server) starts the count again.
 */
export function cutUnreadResponses(app: FastifyInstance, stallMs = UNREAD_WAIT_MS, minBytesPerSecond = MIN_READ_BYTES_PER_SECOND): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    done(null, payload);
    // Small answers leave the server at once; a stream or a large body may wait on its client.
    const stream = payload !== null && typeof payload === 'object' && 'pipe' in payload;
    const large = (Buffer.isBuffer(payload) || typeof payload === 'string') && payload.length > 64 * 1024;
    if (stream || large) watchProgress(reply.raw, request.log, { stallMs, minBytesPerSecond, oneWrite: !stream });
  });
}

interface Watch {
  stallMs: number;
  minBytesPerSecond: number;
  /** The body goes as one write (a buffer or a string), not as a stream's pieces. */
  oneWrite: boolean;
}

function watchProgress(res: ServerResponse, log: FastifyBaseLogger, { stallMs, minBytesPerSecond, oneWrite }: Watch): void {
  const socket = res.socket;
  // A client gone before the answer: its 'close' came already, and would never stop the timer.
  if (socket === null || res.closed || socket.destroyed) return;
  let written = socket.bytesWritten;
  let least = Number.POSITIVE_INFINITY;
  let since = Date.now();
  // The rate's count: since when bytes waited all along, and what the kernel had taken then.
  let waitingSince = since;
  let takenThen = takenByKernel(socket, queuedInHandle(socket));
  const cut = (unread: number, why: string): void => {
    log.warn({ unreadBytes: unread, stallMs, minBytesPerSecond }, why);
    clearInterval(timer);
    socket.destroy();
  };
  const timer = setInterval(() => {
    const queued = queuedInHandle(socket);
    // One write whose taking cannot be seen: a reader could not be told from none, so none is cut.
    if (queued === undefined && oneWrite) return;
    // What waits in the response and socket buffers, and in libuv.
    const unread = res.writableLength + (queued ?? 0);
    const now = Date.now();
    // Progress: more was written (a stream goes on once its client took some), or less waits.
    if (unread === 0 || socket.bytesWritten !== written || unread < least) {
      written = socket.bytesWritten;
      least = unread === 0 ? Number.POSITIVE_INFINITY : unread;
      since = now;
    } else if (now - since >= stallMs) {
      cut(unread, 'a response was not read: connection closed');
      return;
    }
    const taken = takenByKernel(socket, queued);
    if (unread === 0 || taken === undefined || takenThen === undefined) {
      // Nothing waits (the client keeps up), or the kernel's taking cannot be seen: no rate to hold to.
      waitingSince = now;
      takenThen = taken;
    } else if (minBytesPerSecond > 0 && now - waitingSince >= stallMs) {
      if (taken - takenThen < minBytesPerSecond * ((now - waitingSince) / 1000)) {
        cut(unread, 'a response was read too slowly: connection closed');
        return;
      }
      waitingSince = now;
      takenThen = taken;
    }
  }, Math.min(PROGRESS_POLL_MS, stallMs));
  timer.unref();
  res.once('close', () => clearInterval(timer));
}
