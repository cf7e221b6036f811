import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { ReamEvent } from '../../events/types.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { followedToTheEnd, followJobEvents, MAX_UNREAD_BYTES, roomForReplay } from '../follow-events.ts';
import { jobIdParams, problemResponses } from '../openapi.ts';
import { keyStillLive } from '../auth/plugin.ts';
import { checkedSender } from '../auth/checked-sender.ts';
import { principalOf } from '../auth/principal.ts';
import { TENANT } from '../auth/access.ts';
import { requireJob } from './jobs.ts';

export interface EventRouteOptions {
  /** Comment line sent this often to keep proxies from closing an idle stream. Default 15 s. */
  heartbeatMs: number;
  /** Aborted when the server closes: open streams end. */
  shutdown: AbortSignal;
}

interface EventsQuery {
  after?: string;
  /** What EventSource polyfills (event-source-polyfill's `lastEventIdQueryParameterName`) resume with. */
  lastEventId?: string;
}

function resumeAfter(request: FastifyRequest<{ Querystring: EventsQuery }>): number {
  const header = request.headers['last-event-id'];
  const raw = typeof header === 'string' && header !== '' ? header : request.query.after ?? request.query.lastEventId;
  if (raw === undefined || raw === '') return 0;
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN; // digits only: not `1e2`, ` 7` or `0x10`
  if (!Number.isSafeInteger(n)) throw ReamError.nonRetryable('validation_failed', 'Last-Event-ID / after / lastEventId must be a non-negative integer');
  return n;
}

function frame(event: ReamEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * `GET /v1/jobs/:id/events`: Server-Sent Events. Replays stored events after `Last-Event-ID`
 * (or `?after=`), then follows live ones, every `seq` exactly once and in order
 * ({@link followJobEvents}, shared with the WebSocket). Ends after the job's terminal event;
 * `204 No Content` when the job has ended and the client has every event already.
 */
export function eventRoutes(app: FastifyInstance, ream: Ream, options: EventRouteOptions): void {
  const schema = {
    summary: 'Server-Sent Events of a job; resume with Last-Event-ID or ?after=',
    params: jobIdParams,
    querystring: {
      type: 'object',
      properties: {
        after: { type: 'string', description: 'Replay events with a greater seq' },
        // A browser's EventSource cannot send Authorization: the polyfills that can resume with
        // this parameter rather than the Last-Event-ID header (unknown parameters are refused).
        lastEventId: { type: 'string', description: 'The same as after: what EventSource polyfills send when they reconnect' },
      },
    },
    produces: ['text/event-stream'],
    response: problemResponses,
  } as const;
  app.get<{ Params: { id: string }; Querystring: EventsQuery }>('/v1/jobs/:id/events', { ...TENANT, schema }, async (request, reply) => {
    const job = await requireJob(ream, request.params.id, principalOf(request));
    const afterSeq = resumeAfter(request);
    // Resumed after the last event of an ended job: nothing will come. 204 tells an EventSource
    // to stop reconnecting (a 200 that closes makes it reconnect, again and again).
    if (await followedToTheEnd(ream, job, afterSeq)) return reply.code(204).send();
    const res = reply.raw;

    reply.hijack();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': ream events\n\n');

    const principal = principalOf(request);
    // A client that leaves too much unread is cut (it resumes with Last-Event-ID): what is
    // queued for it goes, rather than growing with every event for as long as it stays connected.
    const cut = (): void => {
      request.log.warn({ unreadBytes: res.writableLength }, 'an event stream was not read: connection closed');
      stop();
      res.destroy();
    };
    const write = (text: string): void => {
      if (res.destroyed) return;
      res.write(text);
      if (res.writableLength > MAX_UNREAD_BYTES) cut();
    };
    // Each event only once the key was found live after it came: a revoked key gets no more.
    const pushed = checkedSender(() => keyStillLive(ream, principal), write, () => stop());
    const follow = followJobEvents(ream, job.id, {
      afterSeq,
      send: (event) => pushed.push(frame(event)),
      onError: (error) => request.log.error({ err: error }, 'event stream failed'),
      // The replay goes a page at a time, as fast as the client reads.
      ready: async (stopped) => {
        await pushed.idle();
        if (!(await roomForReplay(() => res.writableLength, () => res.destroyed || stopped())) && !stopped()) cut();
      },
    });
    const heartbeat = setInterval(() => {
      if (!res.writableEnded) write(': heartbeat\n\n');
      // A key revoked while its quiet stream is open: the stream ends.
      keyStillLive(ream, principal).then((live) => {
        if (!live) stop();
      }, () => undefined);
    }, options.heartbeatMs);
    // What is queued is dropped too: nothing is written to a stream that has closed.
    const stop = (): void => {
      pushed.stop();
      follow.stop();
    };
    res.once('close', stop);
    options.shutdown.addEventListener('abort', stop, { once: true });
    if (options.shutdown.aborted) stop();
    void follow.done.then(() => pushed.idle()).then(() => {
      clearInterval(heartbeat);
      options.shutdown.removeEventListener('abort', stop);
      if (!res.writableEnded) res.end();
    });
  });
}
