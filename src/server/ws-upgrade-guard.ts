import type { FastifyInstance } from 'fastify';
import { ReamError } from '../errors.ts';
import { isWebSocketUpgrade } from './auth/ws-credentials.ts';
import { sendProblem, toProblem } from './problem.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route opens a WebSocket on an upgrade (GET /v1/ws). */
    webSocket?: boolean;
  }
}

/** How long a refused upgrade's socket may stay open for its answer to be read, in ms. */
const UPGRADE_LINGER_MS = 1_000;

/**
 * Refuses a WebSocket upgrade to a route that takes none with 400 `validation_failed`, before
 * anything else reads it. The WebSocket library answered it 101 Switching Protocols and closed
 * the socket at once: a client saw a WebSocket open, then closed without a word of why.
 */
export function refuseUpgradesElsewhere(app: FastifyInstance): void {
  app.addHook('onRequest', async (request, reply) => {
    if (!isWebSocketUpgrade(request) || request.is404 || request.routeOptions.config.webSocket === true) return undefined;
    const path = request.url.split('?')[0] ?? '';
    // The socket was handed over for the upgrade: no HTTP connection Node keeps or closes. Once
    // the answer is out it is ended here (and cut a second later if the client keeps it).
    const socket = request.raw.socket;
    reply.raw.once('finish', () => {
      socket.end();
      setTimeout(() => socket.destroy(), UPGRADE_LINGER_MS).unref();
    });
    return sendProblem(reply, toProblem(ReamError.nonRetryable('validation_failed', `${request.method} ${path} takes no WebSocket: GET /v1/ws does`)));
  });
}
