import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { WebSocket } from 'ws';
import { ReamError } from '../../errors.ts';
import { parseJsonObject } from '../../json.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { followJobEvents, type EventFollow } from '../follow-events.ts';
import { toProblem } from '../problem.ts';
import { loadJobView } from '../views.ts';
import { principalOf, type Principal } from '../auth/principal.ts';
import { TENANT } from '../auth/access.ts';
import { requireJob } from './jobs.ts';

/** Client → server messages on `/v1/ws`. `requestId` is echoed on the answer (and on errors). */
type ClientMessage =
  | { type: 'subscribe'; jobId: string; afterSeq?: number; requestId?: string }
  | { type: 'unsubscribe'; jobId: string; requestId?: string }
  | { type: 'get_job_status'; jobId: string; requestId?: string }
  | { type: 'cancel_job'; jobId: string; requestId?: string };

const MESSAGE_TYPES = new Set(['subscribe', 'unsubscribe', 'get_job_status', 'cancel_job']);
const MAX_SUBSCRIPTIONS = 100;

function invalid(message: string): ReamError {
  return ReamError.nonRetryable('validation_failed', message);
}

function text(data: Buffer | ArrayBuffer | Buffer[]): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}

/** The request id of a message, if it has a usable one, even when the rest is invalid. */
function requestIdOf(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const id = (value as { requestId?: unknown }).requestId;
  return typeof id === 'string' || typeof id === 'number' ? String(id) : undefined;
}

function parseMessage(raw: string): ClientMessage {
  const value = parseJsonObject(raw, 'a message');
  const { type, jobId, afterSeq } = value;
  if (typeof type !== 'string' || !MESSAGE_TYPES.has(type)) {
    throw invalid(`unknown message type ${JSON.stringify(type)} (expected ${[...MESSAGE_TYPES].join(', ')})`);
  }
  if (typeof jobId !== 'string' || jobId === '') throw invalid(`"${type}" needs a "jobId" string`);
  if (afterSeq !== undefined && (typeof afterSeq !== 'number' || !Number.isSafeInteger(afterSeq) || afterSeq < 0)) {
    throw invalid('"afterSeq" must be a non-negative integer');
  }
  const requestId = requestIdOf(value);
  return { type, jobId, ...(typeof afterSeq === 'number' ? { afterSeq } : {}), ...(requestId === undefined ? {} : { requestId }) } as ClientMessage;
}

/**
 * One connection: its subscriptions, one per job, each replaying then following that job's
 * events gaplessly (the same follow as SSE). Bad input answers an `error` message; the socket
 * stays open.
 */
class Connection {
  readonly #socket: WebSocket;
  readonly #ream: Ream;
  readonly #log: FastifyBaseLogger;
  readonly #principal: Principal;
  readonly #follows = new Map<string, EventFollow>();
  #closed = false;

  constructor(socket: WebSocket, ream: Ream, log: FastifyBaseLogger, principal: Principal) {
    this.#socket = socket;
    this.#principal = principal;
    this.#ream = ream;
    this.#log = log;
  }

  send(message: object): void {
    if (this.#closed || this.#socket.readyState !== this.#socket.OPEN) return;
    this.#socket.send(JSON.stringify(message));
  }

  sendError(error: unknown, requestId: string | undefined): void {
    const problem = toProblem(error);
    if (problem.status >= 500) this.#log.error({ err: error }, 'websocket message failed');
    this.send({ type: 'error', code: problem.code, message: problem.detail, ...(requestId === undefined ? {} : { requestId }) });
  }

  async handle(raw: string): Promise<void> {
    let requestId: string | undefined;
    try {
      try {
        requestId = requestIdOf(JSON.parse(raw));
      } catch {
        // parseMessage says what is wrong
      }
      const message = parseMessage(raw);
      const reply = requestId === undefined ? {} : { requestId };
      switch (message.type) {
        case 'subscribe':
          await this.#subscribe(message.jobId, message.afterSeq ?? 0, requestId);
          break;
        case 'unsubscribe':
          this.#follows.get(message.jobId)?.stop();
          this.#follows.delete(message.jobId);
          break;
        case 'get_job_status': {
          const job = await requireJob(this.#ream, message.jobId, this.#principal);
          this.send({ type: 'job_status', job: await loadJobView(this.#ream, job), ...reply });
          break;
        }
        case 'cancel_job': {
          const job = await requireJob(this.#ream, message.jobId, this.#principal);
          this.send({ type: 'job_status', job: await loadJobView(this.#ream, await this.#ream.cancel(job.id)), ...reply });
          break;
        }
      }
    } catch (error) {
      this.sendError(error, requestId);
    }
  }

  async #subscribe(jobId: string, afterSeq: number, requestId: string | undefined): Promise<void> {
    const job = await requireJob(this.#ream, jobId, this.#principal);
    if (this.#closed) return;
    this.#follows.get(job.id)?.stop(); // a new subscribe to the same job restarts it from afterSeq
    if (!this.#follows.has(job.id) && this.#follows.size >= MAX_SUBSCRIPTIONS) {
      throw ReamError.nonRetryable('rate_limited', `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection`);
    }
    const follow = followJobEvents(this.#ream, job.id, {
      afterSeq,
      send: (event) => this.send({ type: 'event', event }),
      onError: (error) => this.sendError(error, requestId),
    });
    this.#follows.set(job.id, follow);
    void follow.done.then(() => {
      if (this.#follows.get(job.id) === follow) this.#follows.delete(job.id);
    });
  }

  close(): void {
    this.#closed = true;
    for (const follow of this.#follows.values()) follow.stop();
    this.#follows.clear();
  }
}

/**
 * `GET /v1/ws`: WebSocket. Client messages (JSON): `subscribe {jobId, afterSeq?}`,
 * `unsubscribe {jobId}`, `get_job_status {jobId}`, `cancel_job {jobId}`, each with an optional
 * `requestId`. Server messages: `{type:"event", event}`, `{type:"job_status", job}` (the
 * `GET /v1/jobs/:id` view), `{type:"error", code, message, requestId?}`.
 */
export function wsRoutes(app: FastifyInstance, ream: Ream): void {
  app.route({
    method: 'GET',
    url: '/v1/ws',
    ...TENANT,
    schema: { hide: true },
    // A plain GET (no upgrade) gets a problem, like every other error.
    handler: () => {
      throw invalid('GET /v1/ws is a WebSocket: send Upgrade: websocket');
    },
    wsHandler: (socket, request) => {
      const connection = new Connection(socket, ream, request.log, principalOf(request));
      // Messages are handled in arrival order: a subscribe is set up before a later unsubscribe runs.
      let queue: Promise<void> = Promise.resolve();
      socket.on('message', (data, isBinary) => {
        const raw = isBinary ? '' : text(data);
        queue = queue.then(() => connection.handle(raw));
      });
      socket.on('close', () => connection.close());
      socket.on('error', (error) => {
        request.log.warn({ err: error }, 'websocket error');
        connection.close();
      });
    },
  });
}
