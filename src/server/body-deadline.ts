import type { FastifyInstance } from 'fastify';

/** How long a JSON body may take to arrive, in ms: at most 1 MB, a second or so on a slow line. */
export const JSON_BODY_DEADLINE_MS = 30_000;

/**
 * Ends the connection of a request whose JSON body has not all come within `deadlineMs` of its
 * headers. A client that sends a byte every few seconds (a slow-body attack) held a connection,
 * and what the server holds for it, for as long as it liked: Node's limits cover the headers
 * only. File bodies (tus PATCH, multipart) are left to go as fast as the line goes: they are
 * large, and tus resumes an upload cut short.
 */
export function registerBodyDeadline(app: FastifyInstance, deadlineMs = JSON_BODY_DEADLINE_MS): void {
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
