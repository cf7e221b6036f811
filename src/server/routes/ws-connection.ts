import type { FastifyBaseLogger } from 'fastify';
import type { WebSocket } from 'ws';
import type { JobView } from '../../api-types.ts';
import { ReamError } from '../../errors.ts';
import { TERMINAL_EVENT_TYPES, type ReamEvent } from '../../events/types.ts';
import type { Ream } from '../../runtime/create-ream.ts';
import { followJobEvents, MAX_UNREAD_BYTES, roomForReplay, type EventFollow } from '../follow-events.ts';
import { toProblem } from '../problem.ts';
import { loadJobView } from '../views.ts';
import type { Principal } from '../auth/principal.ts';
import { checkedSender, type CheckedSender } from '../auth/checked-sender.ts';
import { requireJob } from './jobs.ts';
import { dialectOf, parseMessage, requestIdOf, type ClientMessage, type Dialect } from './ws-messages.ts';

const MAX_SUBSCRIPTIONS = 100;
/** How long a peer cut for leaving messages unread has to read the close frame, in ms. */
const UNREAD_CLOSE_GRACE_MS = 5_000;

/** The answer fields that name a request, in the dialect it came in. */
function replyTo(dialect: Dialect, requestId: string | undefined): Record<string, string> {
  if (requestId === undefined) return {};
  return dialect === 'seed' ? { request_id: requestId } : { requestId };
}

/** A job event as a subscriber of `dialect` reads it. */
function eventMessage(dialect: Dialect, event: ReamEvent): object {
  if (dialect === 'ream') return { type: 'event', event };
  return {
    type: 'job_progress', job_id: event.jobId, event: event.type, seq: event.seq, at: event.at, progress: event.progress,
    ...(event.documentId === undefined ? {} : { document_id: event.documentId }),
    ...(event.error === undefined ? {} : { error: event.error }),
  };
}

function statusMessage(dialect: Dialect, job: JobView, requestId: string | undefined): object {
  const reply = replyTo(dialect, requestId);
  if (dialect === 'ream') return { type: 'job_status', job, ...reply };
  return { type: 'job_status_response', job_id: job.id, status: job.status, progress: job.progress, job, ...reply };
}

/**
 * One connection: its subscriptions, one per job, each replaying then following that job's
 * events gaplessly (the same follow as SSE), and optionally the tenant's `notifications` (every
 * job's end, live only). Bad input answers an `error` message; the socket stays open.
 */
export class WsConnection {
  readonly #socket: WebSocket;
  readonly #ream: Ream;
  readonly #log: FastifyBaseLogger;
  readonly #principal: Principal;
  readonly #follows = new Map<string, EventFollow>();
  #notifications: (() => void) | undefined;
  #closed = false;
  /** Events and notifications: sent only once the connection's credentials were found live after they came. */
  readonly #pushed: CheckedSender<object>;

  /** `live` answers whether the connection's credentials still hold; `revoked` is the error it is closed with when not. */
  constructor(socket: WebSocket, ream: Ream, log: FastifyBaseLogger, principal: Principal, live: () => Promise<boolean>, revoked: () => ReamError) {
    this.#socket = socket;
    this.#principal = principal;
    this.#ream = ream;
    this.#log = log;
    this.#pushed = checkedSender(live, (message) => this.send(message), () => {
      this.refuse(revoked());
      this.close();
    });
  }

  send(message: object): void {
    if (this.#closed || this.#socket.readyState !== this.#socket.OPEN) return;
    this.#socket.send(JSON.stringify(message));
    if (this.#socket.bufferedAmount > MAX_UNREAD_BYTES) this.#cutUnread();
  }

  /**
   * A peer that leaves too much unread is closed (1008; it subscribes again with `afterSeq`):
   * what is queued for it goes, rather than growing with every event while it stays connected.
   */
  #cutUnread(): void {
    if (this.#closed) return;
    this.#log.warn({ unreadBytes: this.#socket.bufferedAmount }, 'a websocket peer did not read its messages: connection closed');
    const socket = this.#socket;
    this.close();
    socket.close(1008, 'messages piled up unread: reconnect and subscribe with afterSeq');
    setTimeout(() => socket.terminate(), UNREAD_CLOSE_GRACE_MS).unref();
  }

  sendError(error: unknown, dialect: Dialect, requestId: string | undefined): void {
    const problem = toProblem(error);
    if (problem.status >= 500) this.#log.error({ err: error }, 'websocket message failed');
    this.send({ type: 'error', code: problem.code, message: problem.detail, ...replyTo(dialect, requestId) });
  }

  /** Says why, then closes the socket (1008, policy violation): its credentials hold no more. */
  refuse(error: ReamError): void {
    this.sendError(error, 'ream', undefined);
    if (!this.#closed) this.#socket.close(1008, error.message.slice(0, 120));
  }

  /** Answers one message; `gate` runs first (credentials still live, rate limit) and may refuse it. */
  async handle(raw: string, gate?: () => Promise<void>): Promise<void> {
    let requestId: string | undefined;
    let dialect: Dialect = 'ream';
    try {
      try {
        // For the error reply of a message parseMessage refuses: its request id and dialect.
        const value: unknown = JSON.parse(raw);
        requestId = requestIdOf(value);
        dialect = dialectOf(value);
      } catch {
        // parseMessage says what is wrong
      }
      await gate?.();
      const message = parseMessage(raw);
      dialect = message.dialect;
      await this.#run(message);
    } catch (error) {
      this.sendError(error, dialect, requestId);
      if (error instanceof ReamError && error.code === 'unauthorized' && !this.#closed) this.#socket.close(1008, 'credentials revoked');
    }
  }

  async #run(message: ClientMessage): Promise<void> {
    switch (message.type) {
      case 'subscribe':
        for (const jobId of message.jobIds) await this.#subscribe(jobId, message.afterSeq, message);
        if (message.channels.includes('notifications')) this.#notify(message.dialect);
        return;
      case 'unsubscribe':
        for (const jobId of message.jobIds) {
          this.#follows.get(jobId)?.stop();
          this.#follows.delete(jobId);
        }
        if (message.channels.includes('notifications')) this.#stopNotifications();
        return;
      case 'get_job_status': {
        const job = await requireJob(this.#ream, message.jobId, this.#principal);
        this.send(statusMessage(message.dialect, await loadJobView(this.#ream, job), message.requestId));
        return;
      }
      case 'cancel_job': {
        const job = await requireJob(this.#ream, message.jobId, this.#principal);
        this.send(statusMessage(message.dialect, await loadJobView(this.#ream, await this.#ream.cancel(job.id)), message.requestId));
        return;
      }
      case 'cancel_document': {
        // Answered like cancel_job: the job's status (the other documents go on). Another tenant's job is not_found.
        const job = await requireJob(this.#ream, message.jobId, this.#principal);
        await this.#ream.cancelDocument(job.id, message.documentId);
        const view = await loadJobView(this.#ream, (await this.#ream.getJob(job.id)) ?? job);
        this.send(statusMessage(message.dialect, view, message.requestId));
        return;
      }
    }
  }

  async #subscribe(jobId: string, afterSeq: number, { dialect, requestId }: { dialect: Dialect; requestId?: string }): Promise<void> {
    const job = await requireJob(this.#ream, jobId, this.#principal);
    if (this.#closed) return;
    this.#follows.get(job.id)?.stop(); // a new subscribe to the same job restarts it from afterSeq
    if (!this.#follows.has(job.id) && this.#follows.size >= MAX_SUBSCRIPTIONS) {
      throw ReamError.nonRetryable('rate_limited', `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection`);
    }
    const follow = followJobEvents(this.#ream, job.id, {
      afterSeq,
      send: (event) => this.#pushed.push(eventMessage(dialect, event)),
      onError: (error) => this.sendError(error, dialect, requestId),
      // The replay goes a page at a time, as fast as the peer reads. An unsubscribe ends the wait
      // (it went on polling the socket, and cut a peer that had left the job, after 15 s).
      ready: async (stopped) => {
        await this.#pushed.idle();
        if (!(await roomForReplay(() => this.#socket.bufferedAmount, () => this.#closed || stopped())) && !stopped()) this.#cutUnread();
      },
    });
    this.#follows.set(job.id, follow);
    void follow.done.then(() => {
      if (this.#follows.get(job.id) === follow) this.#follows.delete(job.id);
    });
  }

  /** Every job end of the caller's own tenant (an admin's too: its own), as it happens. */
  #notify(dialect: Dialect): void {
    this.#stopNotifications();
    if (this.#closed) return;
    this.#notifications = this.#ream.subscribe({ tenantId: this.#principal.tenantId }, (event) => {
      if (!TERMINAL_EVENT_TYPES.has(event.type)) return;
      this.#pushed.push(dialect === 'ream'
        ? { type: 'notification', event }
        : { type: 'notification', job_id: event.jobId, event: event.type, at: event.at, progress: event.progress });
    });
  }

  #stopNotifications(): void {
    this.#notifications?.();
    this.#notifications = undefined;
  }

  close(): void {
    this.#closed = true;
    this.#pushed.stop();
    for (const follow of this.#follows.values()) follow.stop();
    this.#follows.clear();
    this.#stopNotifications();
  }
}
