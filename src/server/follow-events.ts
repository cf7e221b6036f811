import { TERMINAL_EVENT_TYPES, type ReamEvent } from '../events/types.ts';
import type { Ream } from '../runtime/create-ream.ts';
import { TERMINAL_JOB_STATUSES, type JobRecord } from '../store/port.ts';
import { joinCatchUp } from './shared-catch-up.ts';

const REPLAY_PAGE = 500;
/**
 * Across processes, live events travel over Redis pub/sub, which drops what is published while
 * a connection is down. The store has every event, so a distributed follow also catches up from
 * it this often: a lost live event costs at most this delay, never a stuck stream. One read per
 * job per process serves all of the job's followers (shared-catch-up.ts).
 */
const DISTRIBUTED_CATCH_UP_MS = 2_000;
/**
 * A job's status turns terminal a moment before its terminal event is stored (the event is
 * announced by whoever changed the status). A job ended longer ago than this has stored it.
 */
export const END_EVENT_GRACE_MS = 2_000;
/**
 * How many bytes of events a subscriber may leave unread (queued in the server for its
 * connection) before its stream is cut: a client that stops reading (a frozen tab, a stalled
 * consumer) held every event and heartbeat in the server's memory, without bound. Events are
 * stored, so a cut subscriber loses nothing: it resumes after the last it read.
 */
export const MAX_UNREAD_BYTES = 4 * 1024 * 1024;
/** The replay reads its next page of stored events once the subscriber has at most this much unread. */
const REPLAY_ROOM_BYTES = 256 * 1024;
/** A subscriber whose unread bytes have not gone down for this long, while the replay waits on it, is cut, in ms. */
export const UNREAD_WAIT_MS = 15_000;
const ROOM_POLL_MS = 20;

/**
 * Waits until a subscriber's connection has room for the next page of a replay (`backlog()`, its
 * unread bytes, at most {@link REPLAY_ROOM_BYTES}): answers false when it read nothing for
 * {@link UNREAD_WAIT_MS} (it is to be cut), true once there is room or it has gone.
 */
export async function roomForReplay(backlog: () => number, gone: () => boolean): Promise<boolean> {
  let least = backlog();
  let since = Date.now();
  while (!gone() && backlog() > REPLAY_ROOM_BYTES) {
    const now = backlog();
    if (now < least) {
      least = now;
      since = Date.now();
    } else if (Date.now() - since > UNREAD_WAIT_MS) return false;
    await new Promise((resolve) => setTimeout(resolve, ROOM_POLL_MS));
  }
  return true;
}
/** How long a follow waits after a job's terminal event for events stored just after it. */
const END_TAIL_MS = 500;

/**
 * Whether a follower of `job` who has every event up to `afterSeq` is done: the job has ended,
 * long enough ago for its terminal event to be stored, and nothing is stored after `afterSeq`.
 * (A client that resumes after the last event of an ended job otherwise waits forever.)
 */
export async function followedToTheEnd(ream: Pick<Ream, 'listEvents'>, job: JobRecord, afterSeq: number, now = Date.now()): Promise<boolean> {
  if (!TERMINAL_JOB_STATUSES.includes(job.status) || now - (job.finishedAt ?? now) < END_EVENT_GRACE_MS) return false;
  return (await ream.listEvents(job.id, afterSeq, 1)).length === 0;
}

/** What a follow uses of a ream. */
export type FollowedReam = Pick<Ream, 'deployment' | 'subscribe' | 'listEvents' | 'getJob'>;

export interface FollowOptions {
  /** Send events with `seq` greater than this. */
  afterSeq: number;
  /** Called once per `seq`, in order. */
  send(event: ReamEvent): void;
  /** The store failed while catching up: the follow has ended. */
  onError(error: unknown): void;
  /**
   * Awaited before each page of stored events is read: resolves once the subscriber has room for
   * more. A replay of a long job sent every page at once, however slowly its subscriber read.
   * `stopped` says whether the follow has ended meanwhile (an unsubscribe): the wait ends then too.
   */
  ready?: (stopped: () => boolean) => Promise<void>;
}

export interface EventFollow {
  /** Ends the follow (idempotent). */
  stop(): void;
  /** Resolves once the follow has ended: after the terminal event, `stop()` or an error. */
  readonly done: Promise<void>;
}

/**
 * Follows one job's events: replays stored ones after `afterSeq`, then live ones, sending every
 * `seq` exactly once and in order (a live event that is not the next `seq` makes it catch up
 * from the store instead). Ends after the job's last terminal event (a retried job has one per
 * run: a follow from before a retry goes on through it). Shared by SSE and WebSocket.
 */
export function followJobEvents(ream: FollowedReam, jobId: string, options: FollowOptions): EventFollow {
  let lastSent = options.afterSeq;
  let ended = false;
  let chain: Promise<void> = Promise.resolve();
  let leaveCatchUp = (): void => undefined;
  let recheck: NodeJS.Timeout | undefined;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });

  let tail: NodeJS.Timeout | undefined;
  const stop = (): void => {
    if (ended) return;
    ended = true;
    off();
    leaveCatchUp();
    clearTimeout(recheck);
    clearTimeout(tail);
    resolveDone();
  };
  /**
   * After a terminal event, what was stored just after it is sent too, then the follow ends if the
   * job is still ended (a retry may have begun). A document's end is stored with its event
   * (Store.appendDocumentEnd), so every document's comes before the job's: the tail is only a
   * safety net for events of a task still running past the end.
   */
  const endAfterTail = (): void => {
    if (tail !== undefined || ended) return;
    tail = setTimeout(() => run(async () => {
      tail = undefined;
      await catchUp();
      const job = await ream.getJob(jobId);
      if (!job || TERMINAL_JOB_STATUSES.includes(job.status)) stop();
    }), END_TAIL_MS);
    tail.unref();
  };
  // A terminal event does not end the follow by itself: the tail check does, once the job is
  // still ended (an earlier run's end, before a retry, is followed by that retry's events).
  const send = (event: ReamEvent): void => {
    if (ended || event.seq <= lastSent) return;
    options.send(event);
    lastSent = event.seq;
    if (TERMINAL_EVENT_TYPES.has(event.type)) endAfterTail();
  };
  const catchUp = async (): Promise<void> => {
    while (!ended) {
      await options.ready?.(() => ended);
      if (ended) return;
      const events = await ream.listEvents(jobId, lastSent, REPLAY_PAGE);
      for (const event of events) send(event);
      if (events.length < REPLAY_PAGE) return;
    }
  };
  /** Steps queued or under way: a shared catch-up hands nothing to a follower with some. */
  let pending = 0;
  const run = (step: () => Promise<void> | void): void => {
    pending++;
    chain = chain.then(step).catch((error: unknown) => {
      if (!ended) options.onError(error);
      stop();
    }).finally(() => {
      pending--;
    });
  };

  // Subscribe before replaying: anything stored after the replay's read arrives live.
  const onEvent = (event: ReamEvent): void => {
    run(() => (event.seq === lastSent + 1 ? send(event) : event.seq > lastSent ? catchUp() : undefined));
  };
  const off = ream.subscribe({ jobId }, onEvent);
  run(catchUp);
  // Everything stored is sent; if the job has ended with nothing more to come, so has the follow.
  // Checked again once the grace is over, for a job that ended just now.
  const endIfJobEnded = async (): Promise<void> => {
    if (ended) return;
    const job = await ream.getJob(jobId);
    if (!job) return stop(); // deleted meanwhile
    if (!TERMINAL_JOB_STATUSES.includes(job.status)) return;
    if (await followedToTheEnd(ream, job, lastSent)) return stop();
    recheck = setTimeout(() => run(endIfJobEnded), END_EVENT_GRACE_MS);
    recheck.unref();
  };
  run(endIfJobEnded);
  if (ream.deployment !== undefined && !ended) {
    leaveCatchUp = joinCatchUp(ream, jobId, {
      lastSent: () => lastSent,
      deliver: (events) => run(async () => {
        await options.ready?.(() => ended);
        for (const event of events) {
          if (event.seq > lastSent + 1) return catchUp();
          send(event);
        }
      }),
      busy: () => pending > 0,
      // A read of its own, as before it shared one: only a store that fails it too ends it.
      readAlone: () => run(catchUp),
    }, DISTRIBUTED_CATCH_UP_MS);
  }
  return { stop, done };
}
