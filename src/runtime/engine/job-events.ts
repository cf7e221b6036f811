import type { EventBus, EventFilter, EventListener } from '../../events/port.ts';
import type { EventType, NewEvent, Progress, ReamEvent } from '../../events/types.ts';
import type { JobCounts, JobRecord, Store } from '../../store/port.ts';
import { ProgressTracker } from '../progress.ts';

/**
 * How long (ms) the counts read for one event serve the next events of the same job's documents
 * and chunks in this process. Counting sums over all of a job's documents and chunks: read afresh
 * for every event, a job of many small files would read the square of its size. Its own events
 * (`job.*`: started, progress, the end) always count afresh.
 */
const COUNTS_REUSE_MS = 100;

/** What an event carries beyond what {@link JobEvents.emit} fills in itself. */
export type EventFields = Omit<NewEvent, 'type' | 'jobId' | 'tenantId' | 'at' | 'progress'>;

/**
 * A job's events: stored first (the event store hands out the gapless `seq`), then published on
 * the bus for live followers. Each carries the job's progress, from the stored counts through one
 * ETA tracker per process, so events and job views agree.
 */
export class JobEvents {
  readonly #store: Pick<Store, 'jobCounts' | 'appendEvent'>;
  readonly #bus: EventBus;
  readonly #progressIntervalMs: number;
  readonly #progress = new ProgressTracker();
  readonly #lastProgressAt = new Map<string, number>();
  readonly #lastCounts = new Map<string, { counts: JobCounts; at: number }>();

  constructor(store: Pick<Store, 'jobCounts' | 'appendEvent'>, bus: EventBus, progressIntervalMs: number) {
    this.#store = store;
    this.#bus = bus;
    this.#progressIntervalMs = progressIntervalMs;
  }

  /** The job's progress from its stored counts, exactly as events report it (same ETA tracker). */
  progress(jobId: string, counts: JobCounts, now = Date.now(), pipeline?: string): Progress {
    return this.#progress.progress(jobId, counts, now, pipeline);
  }

  /** Stores the event (which assigns its gapless `seq`) and fans it out. */
  async emit(job: Pick<JobRecord, 'id' | 'tenantId'> & Partial<Pick<JobRecord, 'pipeline'>>, type: EventType, fields: EventFields): Promise<ReamEvent> {
    const now = Date.now();
    const progress = this.#progress.progress(job.id, await this.#counts(job.id, type, now), now, job.pipeline);
    const event = await this.#store.appendEvent({ ...fields, type, jobId: job.id, tenantId: job.tenantId, at: now, progress });
    // The store holds the event now; live delivery is best effort (followers catch up from the store).
    await this.#bus.publish(event).catch((error: unknown) => {
      process.emitWarning(`ream: could not publish ${event.type} of job ${event.jobId}: ${error instanceof Error ? error.message : String(error)}`);
    });
    return event;
  }

  async #counts(jobId: string, type: EventType, now: number): Promise<JobCounts> {
    const kept = this.#lastCounts.get(jobId);
    if (kept && !type.startsWith('job.') && now - kept.at < COUNTS_REUSE_MS) return kept.counts;
    const counts = await this.#store.jobCounts(jobId);
    this.#lastCounts.set(jobId, { counts, at: now });
    return counts;
  }

  /** A `job.progress` event, at most one per `progressIntervalMs` per job. */
  async emitProgress(job: Pick<JobRecord, 'id' | 'tenantId'>): Promise<void> {
    const now = Date.now();
    if (now - (this.#lastProgressAt.get(job.id) ?? 0) < this.#progressIntervalMs) return;
    this.#lastProgressAt.set(job.id, now);
    await this.emit(job, 'job.progress', {});
  }

  subscribe(filter: EventFilter, listener: EventListener): () => void {
    return this.#bus.subscribe(filter, listener);
  }

  /** Drops what is kept per job in memory (the job ended or is gone). */
  forget(jobId: string): void {
    this.#progress.forget(jobId);
    this.#lastProgressAt.delete(jobId);
    this.#lastCounts.delete(jobId);
  }
}
