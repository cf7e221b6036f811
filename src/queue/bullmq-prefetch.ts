import type { TaskJob } from './bullmq-task.ts';

/** A job BullMQ handed over (active, locked with `token`) while completing the one before it. */
export interface Prefetched {
  job: TaskJob;
  kind: string;
  token: string;
  leaseMs: number;
  /** When the fetching call was sent: the lock lasts `leaseMs` from about then. */
  fetchedAt: number;
}

export interface PrefetchOptions {
  /** How long a fetched job waits for a claim before it is given back, in ms. */
  holdMs: number;
  /** At most this many jobs wait per (kind, leaseMs). */
  maxPerKey: number;
  /**
   * Returns a job to its queue unclaimed. When it fails (Redis unreachable) the job's lock runs
   * out instead and the lease sweep puts it back.
   */
  giveBack: (entry: Prefetched) => Promise<void>;
}

/**
 * Jobs fetched by `complete` for the next `claim` of the same (kind, leaseMs): raw BullMQ workers
 * complete a job and fetch the next in one script call, and this lets the adapter do the same.
 *
 * A fetched job is active and locked in Redis but runs nowhere yet, so it must not be held:
 * one no claim takes within `holdMs` is given back (as are all on `close` and `drain`).
 */
export class PrefetchBuffer {
  readonly #options: PrefetchOptions;
  readonly #byKey = new Map<string, Prefetched[]>();
  readonly #givingBack = new Set<Promise<void>>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: PrefetchOptions) {
    this.#options = options;
  }

  /** Whether a `complete` under this lease should fetch the next job of its kind. */
  wants(kind: string, leaseMs: number): boolean {
    // The hold must stay a small part of the lease, or the lock could lapse while buffered.
    if (this.#closed || leaseMs < 10 * this.#options.holdMs) return false;
    return (this.#byKey.get(keyOf(kind, leaseMs))?.length ?? 0) < this.#options.maxPerKey;
  }

  put(entry: Prefetched): void {
    if (this.#closed) {
      this.#return([entry]);
      return;
    }
    const key = keyOf(entry.kind, entry.leaseMs);
    const entries = this.#byKey.get(key);
    if (entries) entries.push(entry);
    else this.#byKey.set(key, [entry]);
    this.#timer ??= setTimeout(() => this.#expire(), this.#options.holdMs);
  }

  /** The oldest job buffered under `leaseMs` for one of `kinds` (any kind when undefined). */
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

  /** Ids of the tasks buffered here: queued as far as users are concerned. */
  taskIds(): Set<string> {
    return new Set([...this.#byKey.values()].flatMap((entries) => entries.map((e) => e.job.data.taskId)));
  }

  /**
   * Gives back the buffered jobs that match (all by default), waits until every give-back under
   * way has ended, and returns how many it took out.
   */
  async drain(matches: (entry: Prefetched) => boolean = () => true): Promise<number> {
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

  /** Gives back everything; jobs fetched after this are given back as they arrive. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.drain();
  }

  #expire(): void {
    this.#timer = undefined;
    const cutoff = Date.now() - this.#options.holdMs;
    void this.drain((entry) => entry.fetchedAt <= cutoff);
    if (this.#byKey.size > 0) this.#timer = setTimeout(() => this.#expire(), this.#options.holdMs);
  }

  #return(entries: readonly Prefetched[]): void {
    for (const entry of entries) {
      const back = this.#options
        .giveBack(entry)
        .catch(() => undefined) // see `PrefetchOptions.giveBack`
        .finally(() => this.#givingBack.delete(back));
      this.#givingBack.add(back);
    }
  }
}

function keyOf(kind: string, leaseMs: number): string {
  return `${kind}\n${leaseMs}`;
}
