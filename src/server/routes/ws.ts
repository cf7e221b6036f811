import type { FastifyInstance } from 'fastify';
import type { Ream } from '../../runtime/create-ream.ts';
import type { Coordination } from '../coordination.ts';
import { ReamError } from '../../errors.ts';
import { keyStillLive, type RateLimitOptions } from '../auth/plugin.ts';
import { principalOf, type Principal } from '../auth/principal.ts';
import { TENANT } from '../auth/access.ts';
import { issueWsTicket, WS_PROTOCOL, WS_TICKET_TTL_MS } from '../auth/ws-credentials.ts';
import { problemResponses } from '../openapi.ts';
import { WsConnection } from './ws-connection.ts';
import { invalid } from './ws-messages.ts';

export interface WsOptions {
  /** Shared by the instances of a deployment: a ticket issued by one is redeemed on another. */
  coordination: Coordination;
  /** The server pings every connection this often and drops one that did not answer the last ping. */
  heartbeatMs: number;
  /** The HTTP rate limit: each message takes a request's token from its subject's budget. */
  rateLimit?: RateLimitOptions | undefined;
}

/**
 * What every message of a connection passes first: its key not revoked since it connected
 * (asked for each message: a revoked key gets no answer, as an HTTP request gets none), then the
 * subject's rate limit, as an HTTP request.
 */
function messageGate(ream: Ream, principal: Principal, options: WsOptions): () => Promise<void> {
  return async () => {
    if (!(await keyStillLive(ream, principal))) throw revoked();
    if (options.rateLimit) {
      const wait = await options.coordination.takeToken(principal.subject, options.rateLimit.requestsPerMinute);
      if (wait > 0) throw new ReamError('rate_limited', `rate limit exceeded: retry in ${Math.max(1, Math.ceil(wait / 1000))} s`, { retryAfterMs: wait });
    }
  };
}

function revoked(): ReamError {
  return ReamError.nonRetryable('unauthorized', 'the API key of this connection has been revoked');
}

function text(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}

/**
 * `GET /v1/ws`: WebSocket (messages in ws-messages.ts, answers in ws-connection.ts). On connect
 * the server says `{type:"connected", protocol, tenantId, heartbeatMs}`; it pings every
 * `heartbeatMs` and drops a peer that missed a pong. `POST /v1/ws-ticket`: a single-use ticket
 * for browsers, which cannot send `Authorization` on a WebSocket (see ws-credentials.ts).
 */
export function wsRoutes(app: FastifyInstance, ream: Ream, options: WsOptions): void {
  app.post('/v1/ws-ticket', {
    ...TENANT,
    schema: {
      summary: 'A single-use ticket for GET /v1/ws?ticket=… (browsers cannot send Authorization on a WebSocket)',
      response: {
        201: {
          type: 'object',
          required: ['ticket', 'expiresAt'],
          properties: {
            ticket: { type: 'string', description: `Good for one connection within ${WS_TICKET_TTL_MS / 1000} s, as the caller` },
            expiresAt: { type: 'integer', description: 'Epoch ms' },
          },
        },
        ...problemResponses,
      },
    },
  }, async (request, reply) => reply.code(201).send(await issueWsTicket(options.coordination, principalOf(request))));

  app.route({
    method: 'GET',
    url: '/v1/ws',
    config: { ...TENANT.config, webSocket: true },
    schema: {
      summary: 'WebSocket (Upgrade: websocket): live events of the caller\'s jobs (README, "WebSocket")',
      description: 'The server greets with `{"type":"connected","protocol":"ream.v1",…}`; the client sends `subscribe` (`jobId`, `afterSeq`), `unsubscribe`, `get_job_status`, `cancel_job` and `cancel_document`, ' +
        'and receives `event`, `job_status` and `error` messages. Credentials: `Authorization: Bearer`, the subprotocol `bearer.<token>` beside `ream.v1`, or `?ticket=` from `POST /v1/ws-ticket`. A GET without Upgrade is 400 `validation_failed`.',
      querystring: { type: 'object', properties: { ticket: { type: 'string', description: 'A single-use ticket from POST /v1/ws-ticket (browsers)' } } },
      response: { 101: { description: 'Switching Protocols: the WebSocket is open', type: 'null' }, ...problemResponses },
    },
    // A plain GET (no upgrade) gets a problem, like every other error.
    handler: () => {
      throw invalid('GET /v1/ws is a WebSocket: send Upgrade: websocket');
    },
    wsHandler: (socket, request) => {
      const principal = principalOf(request);
      const connection = new WsConnection(socket, ream, request.log, principal, () => keyStillLive(ream, principal), revoked);
      const gate = messageGate(ream, principal, options);
      connection.send({ type: 'connected', protocol: WS_PROTOCOL, tenantId: principal.tenantId, heartbeatMs: options.heartbeatMs });
      // Messages are handled in arrival order: a subscribe is set up before a later unsubscribe runs.
      let queue: Promise<void> = Promise.resolve();
      socket.on('message', (data, isBinary) => {
        const raw = isBinary ? '' : text(data);
        queue = queue.then(() => connection.handle(raw, gate));
      });
      // A peer that vanished without a close (a sleeping laptop, a dropped NAT entry) holds its
      // subscriptions until a ping goes unanswered.
      let answered = true;
      socket.on('pong', () => (answered = true));
      const heartbeat = setInterval(() => {
        if (!answered) {
          socket.terminate();
          return;
        }
        answered = false;
        socket.ping();
        // A revoked key's quiet connection is closed too, not only at its next message or event.
        keyStillLive(ream, principal).then((live) => {
          if (!live) connection.refuse(revoked());
        }, () => undefined);
      }, options.heartbeatMs);
      heartbeat.unref();
      socket.on('close', () => {
        clearInterval(heartbeat);
        connection.close();
      });
      socket.on('error', (error) => {
        request.log.warn({ err: error }, 'websocket error');
        clearInterval(heartbeat);
        connection.close();
      });
    },
  });
}
