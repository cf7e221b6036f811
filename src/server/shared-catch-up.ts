import type { ReamEvent } from '../events/types.ts';
import type { Ream } from '../runtime/create-ream.ts';

/** Where a shared catch-up reads a job's stored events. */
export type StoredEvents = Pick<Ream, 'listEvents'>;

/** One follower's part in its job's shared catch-up. */
export interface CatchUpMember {
  /** The highest `seq` the follower has sent. */
  lastSent(): number;
  /**
   * Events read from the store, in `seq` order, sent once the follower's subscriber has room for
   * them (as a replay's page is): handed over one by one as live events, a page went out at once
   * to a subscriber that was not reading.
   */
  deliver(events: readonly ReamEvent[]): void;
  /**
   * Whether the follower has work of its own waiting (its own catch-up, waiting for its subscriber
   * to read): it is skipped, and reads the store itself or gets the next shared read. Each read
   * queued another page behind the wait of a slow subscriber, every interval, without end.
   */
  busy(): boolean;
  /**
   * The shared read failed: the follower reads the store itself, and ends if that fails too. One
   * read that failed (a connection reset) ended every follower of the job at once.
   */
  readAlone(): void;
}

const PAGE = 500;

/**
 * The followers of one job in this process and the one timer that reads the store for them.
 * Each follower read the store on its own timer: 100 followers of a job were 100 queries per
 * interval, all answering the same rows.
 */
class JobCatchUp {
  readonly members = new Set<CatchUpMember>();
  readonly #timer: NodeJS.Timeout;
  #reading = false;

  constructor(source: StoredEvents, jobId: string, intervalMs: number) {
    this.#timer = setInterval(() => void this.#read(source, jobId), intervalMs);
    this.#timer.unref();
  }

  /**
   * Reads after the furthest follower: the others are handed events past their next `seq`, which
   * makes them catch up on their own, as a live event past a gap does. Nothing past it, it reads
   * after the next furthest, and so on: a follower resuming past everything stored (any cursor
   * is accepted) kept the others from every event the store alone has. As a rule all are at the
   * same `seq`: one read. A read still under way (a slow store) is not joined by another.
   */
  async #read(source: StoredEvents, jobId: string): Promise<void> {
    if (this.#reading) return;
    const members = [...this.members].filter((member) => !member.busy());
    if (members.length === 0) return;
    this.#reading = true;
    try {
      const positions = [...new Set(members.map((member) => member.lastSent()))].sort((a, b) => b - a);
      for (const after of positions) {
        if (this.members.size === 0) return;
        const events = await source.listEvents(jobId, after, PAGE);
        for (const member of members) if (this.members.has(member) && !member.busy() && events.length > 0) member.deliver(events);
        if (events.length > 0) return;
      }
    } catch {
      for (const member of members) if (this.members.has(member)) member.readAlone();
    } finally {
      this.#reading = false;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}

const catchUps = new WeakMap<StoredEvents, Map<string, JobCatchUp>>();

/**
 * Adds `member` to the catch-up of `jobId` read from `source` every `intervalMs` (one read per
 * job per process, however many follow it); returns the function that takes it out. The read
 * stops when the last member has left.
 */
export function joinCatchUp(source: StoredEvents, jobId: string, member: CatchUpMember, intervalMs: number): () => void {
  let jobs = catchUps.get(source);
  if (jobs === undefined) {
    jobs = new Map();
    catchUps.set(source, jobs);
  }
  let catchUp = jobs.get(jobId);
  if (catchUp === undefined) {
    catchUp = new JobCatchUp(source, jobId, intervalMs);
    jobs.set(jobId, catchUp);
  }
  catchUp.members.add(member);
  const joined = catchUp;
  const byJob = jobs;
  return () => {
    if (!joined.members.delete(member) || joined.members.size > 0) return;
    joined.stop();
    if (byJob.get(jobId) === joined) byJob.delete(jobId);
  };
}
