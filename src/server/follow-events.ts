import { TERMINAL_EVENT_TYPES, type ReamEvent } from '../events/types.ts';
import type { Ream } from '../runtime/create-ream.ts';

const REPLAY_PAGE = 500;
/**
 * Across processes, live events travel over Redis pub/sub, which drops what is published while
 * a connection is down. The store has every event, so a distributed follow also catches up from
 * it this often: a lost live event costs at most this delay, never a stuck stream.
 */
const DISTRIBUTED_CATCH_UP_MS = 2_000;

export interface FollowOptions {
  /** Send events with `seq` greater than this. */
  afterSeq: number;
  /** Called once per `seq`, in order. */
  send(event: ReamEvent): void;
  /** The store failed while catching up: the follow has ended. */
  onError(error: unknown): void;
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
 * from the store instead). Ends after the job's terminal event. Shared by SSE and WebSocket.
 */
export function followJobEvents(ream: Ream, jobId: string, options: FollowOptions): EventFollow {
  let lastSent = options.afterSeq;
  let ended = false;
  let chain: Promise<void> = Promise.resolve();
  let poll: NodeJS.Timeout | undefined;
  let resolveDone: () => void = () => undefined;
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });

  const stop = (): void => {
    if (ended) return;
    ended = true;
    off();
    if (poll) clearInterval(poll);
    resolveDone();
  };
  const send = (event: ReamEvent): void => {
    if (ended || event.seq <= lastSent) return;
    options.send(event);
    lastSent = event.seq;
    if (TERMINAL_EVENT_TYPES.has(event.type)) stop();
  };
  const catchUp = async (): Promise<void> => {
    while (!ended) {
      const events = await ream.listEvents(jobId, lastSent, REPLAY_PAGE);
      for (const event of events) send(event);
      if (events.length < REPLAY_PAGE) return;
    }
  };
  const run = (step: () => Promise<void> | void): void => {
    chain = chain.then(step).catch((error: unknown) => {
      if (!ended) options.onError(error);
      stop();
    });
  };

  // Subscribe before replaying: anything stored after the replay's read arrives live.
  const off = ream.subscribe({ jobId }, (event) => {
    run(() => (event.seq === lastSent + 1 ? send(event) : event.seq > lastSent ? catchUp() : undefined));
  });
  run(catchUp);
  if (ream.deployment !== undefined && !ended) {
    poll = setInterval(() => run(catchUp), DISTRIBUTED_CATCH_UP_MS);
    poll.unref();
  }
  return { stop, done };
}
