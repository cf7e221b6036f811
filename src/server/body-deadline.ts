import type { FastifyInstance } from 'fastify';

/** How long what is left of a body answered already may take to arrive, in ms. */
const AFTER_ANSWER_DEADLINE_MS = 10_000;

/** How long a JSON body may take to arrive, in ms: at most 1 MB, a second or so on a slow line. */
export const JSON_BODY_DEADLINE_MS = 30_000;

/**
 * How long any body, a file's too, may go without a byte, in ms. Files go as fast as the line
 * goes, but a line that has stopped (a client gone without closing, a stalled sender) held its
 * connection, its half-written file and, over tus, its upload for ever.
 */
export const BODY_IDLE_MS = 60_000;

/**
 * Ends the connection of a request whose JSON body has not all come within `deadlineMs` of its
 * headers. A client that sends a byte every few seconds (a slow-body attack) held a connection,
 * and what the server holds for it, for as long as it liked: Node's limits cover the headers
 * only. File bodies (tus PATCH, multipart) are left to go as fast as the line goes: they are
 * large, and tus resumes an upload cut short.
 */
export function registerBodyDeadline(app: FastifyInstance, deadlineMs = JSON_BODY_DEADLINE_MS, idleMs = BODY_IDLE_MS): void {
  app.addHook('onRequest', (request, _reply, done) => {
    done();
    if (request.raw.complete) return;
    // The socket's idle timer (reset by every byte either way), while the body comes.
    request.raw.setTimeout(idleMs, () => {
      if (request.raw.complete) return;
      request.log.warn({ idleMs }, 'a body stopped coming: connection closed');
      request.raw.socket.destroy();
    });
    // A kept-alive connection's next request starts without it.
    request.raw.once('end', () => request.raw.socket.setTimeout(0));
  });
  // Answered before its body has all come (refused: a type no route reads, no key, a quota):
  // what is left of the body is read and dropped, so that the client, still sending, gets the
  // answer rather than a reset; but within a deadline, not at whatever pace a client likes.
  app.addHook('onResponse', (request, _reply, done) => {
    done();
    if (request.raw.complete) return;
    const timer = setTimeout(() => {
      if (!request.raw.complete) request.raw.socket.destroy();
    }, AFTER_ANSWER_DEADLINE_MS);
    timer.unref();
    request.raw.once('end', () => clearTimeout(timer));
    request.raw.once('close', () => clearTimeout(timer));
  });
  app.addHook('onRequest', (request, _reply, done) => {
    done();
    const type = request.headers['content-type'] ?? '';
    if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type) || request.raw.complete) return;
    const timer = setTimeout(() => {
      if (!request.raw.complete) {
        request.log.warn({ deadlineMs }, 'a JSON body did not come within its deadline: connection closed');
        request.raw.socket.destroy();
      }
    }, deadlineMs);
    timer.unref();
    const clear = (): void => clearTimeout(timer);
    request.raw.once('end', clear);
    request.raw.once('close', clear);
  });
}
