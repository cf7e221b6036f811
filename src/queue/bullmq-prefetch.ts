import { Job, type JobJson } from 'bullmq';
import type { TaskWorker } from './bullmq-handles.ts';
import type { TaskData, TaskJob } from './bullmq-task.ts';

/** A job BullMQ handed over (active, locked with `token`) while completing the one before it. */
export interface Prefetched {
  job: TaskJob;
  kind: string;
  token: string;
  leaseMs: number;
  /** When the fetching call was sent: the lock lasts `leaseMs` from about then. */
  fetchedAt: number;
}

/**
 * A fetched job waits this long for a claim before it is given back. Only leases of at least ten
 * times this are fetched ahead (see `wants`), so the hold stays a small part of the lock.
 */
const DEFAULT_HOLD_MS = 100;
/** At most this many fetched jobs wait per (kind, leaseMs): about one per busy claimer. */
const MAX_PER_KEY = 64;
/** The last this many additions of tasks in this process are remembered (see `added`). */
const ADDS_KEPT = 256;

/** Tasks of one kind added in one call: when, and the earliest `runAt` among them. */
interface Added {
  kind: string;
  runAt: number;
  at: number;
}

export interface PrefetcherOptions {
  /** How long a fetched job waits for a claim before it is given back, in ms. Default 100. */
  holdMs?: number;
  /** The Worker whose lock duration a job fetched under `leaseMs` has (Job.fromJSON needs one). */
  workerOf: (kind: string, leaseMs: number) => TaskWorker;
  /**
   * Returns a job to its queue unclaimed. When it fails (Redis unreachable) the job's lock runs
   * out instead and the lease sweep puts it back.
   */
  giveBack: (entry: Prefetched) => Promise<void>;
}

/**
 * Fetching ahead, like a raw BullMQ worker: `complete` asks BullMQ for the next job of the same
 * kind in the same script call (`wants` says whether to), hands the answer to `keep`, and the next
 * `claim` of that (kind, leaseMs) in this process `take`s it without a round trip.
 *
 * A fetched job is active and locked in Redis but runs nowhere yet, so it must not be held: one
 * no claim takes within the hold is given back (as are all on `close`, and a job's on `drain`).
 * Until a claim takes it, the task is still `queued` for users (its record says so).
 */
export class Prefetcher {
  readonly #options: PrefetcherOptions;
  readonly #byKey = new Map<string, Prefetched[]>();
  readonly #givingBack = new Set<Promise<void>>();
  readonly #added: Added[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  readonly #holdMs: number;

  constructor(options: PrefetcherOptions) {
    this.#options = options;
    this.#holdMs = options.holdMs ?? DEFAULT_HOLD_MS;
  }

  /** Whether a `complete` under this lease should fetch the next job of its kind. */
  wants(kind: string, leaseMs: number): boolean {
    // The hold must stay a small part of the lease, or the lock could lapse while buffered.
    if (this.#closed || leaseMs < 10 * this.#holdMs) return false;
    return (this.#byKey.get(keyOf(kind, leaseMs))?.length ?? 0) < MAX_PER_KEY;
  }

  /**
   * Tasks of `kind` were just added here, due from `runAt`: fetched jobs of other kinds due after
   * them go back, and so does one fetched later by the completion of a task leased before now
   * (`keep`), so that the next claim ranks the queues again. A document's inspection adds its
   * chunks, due before the documents added after it, and then completes: the next inspection it
   * fetched must not be served before them. Within a kind BullMQ's own order stands.
   */
  added(kind: string, runAt: number): void {
    const entry = { kind, runAt, at: Date.now() };
    this.#added.push(entry);
    if (this.#added.length > ADDS_KEPT) this.#added.shift();
    void this.#drain((held) => jumps(held, entry));
  }

  /**
   * Keeps the job `moveToCompleted` fetched, locked with the completed task's token (a token
   * only proves ownership of one job's lock, so sharing it across jobs lets no one in).
   */
  keep(answer: unknown, from: Omit<Prefetched, 'job'>, leasedAt: number): void {
    const entry = this.#entryOf(answer, from);
    if (!entry) return;
    if (this.#closed || this.#added.some((added) => added.at >= leasedAt && jumps(entry, added))) {
      this.#return([entry]);
      return;
    }
    const key = keyOf(entry.kind, entry.leaseMs);
    const entries = this.#byKey.get(key);
    if (entries) entries.push(entry);
    else this.#byKey.set(key, [entry]);
    this.#timer ??= setTimeout(() => this.#expire(), this.#holdMs);
  }

  /**
   * Gives back at once the job `moveToCompleted` fetched: the completion released a flow parent,
   * which may have to go before it (the next claim ranks the queues again).
   */
  giveBackNow(answer: unknown, from: Omit<Prefetched, 'job'>): void {
    const entry = this.#entryOf(answer, from);
    if (entry) this.#return([entry]);
  }

  #entryOf(answer: unknown, from: Omit<Prefetched, 'job'>): Prefetched | undefined {
    // BullMQ answers [job hash, job id, rate-limit delay, next delayed time], no hash when empty.
    if (!Array.isArray(answer) || !answer[0]) return undefined;
    const [json, id] = answer as [JobJson, string];
    const job = Job.fromJSON<TaskData, unknown, string>(this.#options.workerOf(from.kind, from.leaseMs), json, id);
    return { ...from, job };
  }

  /** The oldest job kept under `leaseMs` for one of `kinds` (any kind when undefined). */
  take(kinds: readonly string[] | undefined, leaseMs: number): Prefetched | undefined {
    for (const [key, entries] of this.#byKey) {
      const first = entries[0];
      if (!first || first.leaseMs !== leaseMs || (kinds !== undefined && !kinds.includes(first.kind))) continue;
      entries.shift();
      if (entries.length === 0) this.#byKey.delete(key);
      return first;
    }
    return undefined;
  }

  /** How many jobs wait here: active in BullMQ, queued for users. */
  get size(): number {
    let n = 0;
    for (const entries of this.#byKey.values()) n += entries.length;
    return n;
  }

  /** The data of every job waiting here (for the backlog, which counts them as queued). */
  heldTasks(): TaskData[] {
    return [...this.#byKey.values()].flatMap((entries) => entries.map((entry) => entry.job.data));
  }

  /**
   * Gives back the jobs kept for ream job `jobId` (all when undefined), waits until every
   * give-back under way has ended, and returns how many it took out.
   */
  drain(jobId?: string): Promise<number> {
    return this.#drain((entry) => jobId === undefined || entry.job.data.jobId === jobId);
  }

  /** Gives back everything; jobs fetched after this are given back as they arrive. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.drain();
  }

  async #drain(matches: (entry: Prefetched) => boolean): Promise<number> {
    const drained: Prefetched[] = [];
    for (const [key, entries] of this.#byKey) {
      const kept = entries.filter((entry) => !matches(entry) || !drained.push(entry));
      if (kept.length === 0) this.#byKey.delete(key);
      else this.#byKey.set(key, kept);
    }
    this.#return(drained);
    await Promise.all(this.#givingBack);
    return drained.length;
  }

  #expire(): void {
    this.#timer = undefined;
    const cutoff = Date.now() - this.#holdMs;
    void this.#drain((entry) => entry.fetchedAt <= cutoff);
    if (this.#byKey.size > 0) this.#timer = setTimeout(() => this.#expire(), this.#holdMs);
  }

  #return(entries: readonly Prefetched[]): void {
    for (const entry of entries) {
      const back = this.#options
        .giveBack(entry)
        .catch(() => undefined) // see `PrefetcherOptions.giveBack`
        .finally(() => this.#givingBack.delete(back));
      this.#givingBack.add(back);
    }
  }
}

/** Whether serving `entry` would take it before `added`, a task of another kind due earlier. */
function jumps(entry: Prefetched, added: Added): boolean {
  return entry.kind !== added.kind && (entry.job.data.runAt ?? entry.job.timestamp) > added.runAt;
}

function keyOf(kind: string, leaseMs: number): string {
  return `${kind}\n${leaseMs}`;
}
