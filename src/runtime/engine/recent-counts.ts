// A job's counts as its events last read them, reused for a moment. Counting sums over all of a
// job's documents and chunks (store/sql-job-counts.ts): read afresh for every event, a job of many
// small files would read the square of its size (docs/benchmarks.md, "Many small files").
import type { JobCounts } from '../../store/port.ts';

/** How long (ms) counts read for one event serve the next events of the same job, at least. */
export const COUNTS_REUSE_MS = 100;

/**
 * Counts serve this many times as long as they took to read, when that is longer than
 * {@link COUNTS_REUSE_MS}: a count sums all of a job's rows, so in a job of 100,000 files one
 * takes ~50 ms, and read every 100 ms it took half the thread that hands out the work. Now
 * counting costs at most about 1/20 of the time, whatever the job's size, and its progress is a
 * few tenths of a second behind instead (never more than {@link COUNTS_REUSE_MAX_MS}).
 */
export const COUNTS_REUSE_FACTOR = 20;

/** The longest counts are reused, however long they took to read. */
export const COUNTS_REUSE_MAX_MS = 2_000;

/**
 * Rows to sum (documents and chunks) from which counts are reused at all. Below it a count is
 * cheap (~0.1 ms) and every event counts afresh, so a short job's events show each step of
 * its progress rather than the figure of its start.
 */
export const REUSE_FROM_ROWS = 500;

interface Entry<J> {
  job: J;
  counts: JobCounts;
  at: number;
  /** How long (ms) these counts are handed out again after `at`. */
  reuseMs: number;
  /** An event went out with these counts after they were read: they may be behind what it announced. */
  reused: boolean;
}

/**
 * Per job, the counts last read, handed out again to events asked for within
 * {@link COUNTS_REUSE_MS} of the read (longer for counts slow to read: {@link COUNTS_REUSE_FACTOR}) unless they must be fresh or the job is small
 * ({@link REUSE_FROM_ROWS}). An event given reused counts may
 * show the job a step behind, so when such an event is the last one before the job goes quiet,
 * `refresh(job)` is called once those counts are as old as their reuse lasts (JobEvents sends a
 * `job.progress` then, which counts afresh): what a follower saw last is never behind for longer.
 */
export class RecentCounts<J extends { id: string }> {
  readonly #read: (jobId: string) => Promise<JobCounts>;
  readonly #refresh: (job: J) => void;
  readonly #entries = new Map<string, Entry<J>>();
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(read: (jobId: string) => Promise<JobCounts>, refresh: (job: J) => void) {
    this.#read = read;
    this.#refresh = refresh;
  }

  async get(job: J, fresh: boolean, now = Date.now()): Promise<JobCounts> {
    const kept = fresh ? undefined : this.reusable(job, now);
    if (kept) return kept;
    const started = Date.now();
    const counts = await this.#read(job.id);
    this.remember(job, counts, now, Date.now() - started);
    return counts;
  }

  /** The counts kept for the job when they may serve an event at `now` (handed out: see the class); else undefined. */
  reusable(job: J, now = Date.now()): JobCounts | undefined {
    const kept = this.#entries.get(job.id);
    if (!kept || now - kept.at >= kept.reuseMs || kept.counts.documentsTotal + kept.counts.chunksTotal < REUSE_FROM_ROWS) return undefined;
    kept.reused = true;
    this.#checkAt(job.id, kept.at + kept.reuseMs, now);
    return kept.counts;
  }

  /** Keeps counts read elsewhere (`readMs` to read, as of `at`) for the job's next events. */
  remember(job: J, counts: JobCounts, at: number, readMs: number): void {
    const reuseMs = Math.min(COUNTS_REUSE_MAX_MS, Math.max(COUNTS_REUSE_MS, COUNTS_REUSE_FACTOR * readMs));
    this.#entries.set(job.id, { job, counts, at, reuseMs, reused: false });
  }

  /** Drops what is kept for the job (it ended or is gone), its pending refresh too. */
  forget(jobId: string): void {
    this.#entries.delete(jobId);
    clearTimeout(this.#timers.get(jobId));
    this.#timers.delete(jobId);
  }

  /** Drops everything: no refresh is called after this. */
  clear(): void {
    for (const jobId of [...this.#entries.keys(), ...this.#timers.keys()]) this.forget(jobId);
  }

  #checkAt(jobId: string, at: number, now: number): void {
    if (this.#timers.has(jobId)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(jobId);
      const entry = this.#entries.get(jobId);
      if (!entry?.reused) return; // forgotten, or read afresh since and not handed out again
      const checkedAt = Date.now();
      // Read afresh since, and those counts handed out again: they are watched in their turn.
      if (checkedAt < entry.at + entry.reuseMs) return this.#checkAt(jobId, entry.at + entry.reuseMs, checkedAt);
      entry.reused = false;
      this.#refresh(entry.job);
    }, Math.max(0, at - now));
    timer.unref();
    this.#timers.set(jobId, timer);
  }
}
