import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ReamError } from '../../errors.ts';
import type { ReamEvent } from '../../events/types.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { requireJob } from './jobs.ts';

const TERMINAL_EVENTS = new Set<string>(['job.completed', 'job.failed', 'job.cancelled']);
const REPLAY_PAGE = 500;

export interface EventRouteOptions {
  /** Comment line sent this often to keep proxies from closing an idle stream. Default 15 s. */
  heartbeatMs: number;
  /** Aborted when the server closes: open streams end. */
  shutdown: AbortSignal;
}

function resumeAfter(request: FastifyRequest<{ Querystring: { after?: string } }>): number {
  const header = request.headers['last-event-id'];
  const raw = typeof header === 'string' && header !== '' ? header : request.query.after;
  if (raw === undefined || raw === '') return 0;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) throw ReamError.nonRetryable('validation_failed', 'Last-Event-ID / after must be a non-negative integer');
  return n;
}

function frame(event: ReamEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * `GET /v1/jobs/:id/events`: Server-Sent Events. Replays stored events after `Last-Event-ID`
 * (or `?after=`), then follows live ones, sending every `seq` exactly once and in order: a live
 * event that is not the next `seq` makes it catch up from the store instead. Ends after the
 * job's terminal event.
 */
export function eventRoutes(app: FastifyInstance, ream: Ream, options: EventRouteOptions): void {
  app.get<{ Params: { id: string }; Querystring: { after?: string } }>('/v1/jobs/:id/events', async (request, reply) => {
    const job = await requireJob(ream, request.params.id);
    let lastSent = resumeAfter(request);
    const store = ream.engine.deps.store;
    const res = reply.raw;
    let done = false;
    let chain: Promise<void> = Promise.resolve();

    reply.hijack();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': ream events\n\n');

    const heartbeat = setInterval(() => {
      if (!done) res.write(': heartbeat\n\n');
    }, options.heartbeatMs);
    const finish = (): void => {
      if (done) return;
      done = true;
      clearInterval(heartbeat);
      off();
      options.shutdown.removeEventListener('abort', finish);
      if (!res.writableEnded) res.end();
    };
    const send = (event: ReamEvent): void => {
      if (done || event.seq <= lastSent) return;
      res.write(frame(event));
      lastSent = event.seq;
      if (TERMINAL_EVENTS.has(event.type)) finish();
    };
    const catchUp = async (): Promise<void> => {
      while (!done) {
        const events = await store.listEvents(job.id, lastSent, REPLAY_PAGE);
        for (const event of events) send(event);
        if (events.length < REPLAY_PAGE) return;
      }
    };
    const run = (step: () => Promise<void> | void): void => {
      chain = chain
        .then(step)
        .catch((error: unknown) => {
          request.log.error({ err: error }, 'event stream failed');
          finish();
        });
    };

    // Subscribe before replaying: anything stored after the replay's read arrives live.
    const off = ream.subscribe({ jobId: job.id }, (event) => {
      run(() => (event.seq === lastSent + 1 ? send(event) : event.seq > lastSent ? catchUp() : undefined));
    });
    res.once('close', finish);
    options.shutdown.addEventListener('abort', finish, { once: true });
    if (options.shutdown.aborted) finish();
    run(catchUp);
    await chain;
  });
}
