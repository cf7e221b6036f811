import type { EventBus, EventFilter, EventListener } from '../../events/port.ts';
import type { EventType, NewEvent, Progress, ReamEvent } from '../../events/types.ts';
import type { DocumentEnd, JobCounts, JobRecord, Store } from '../../store/port.ts';
import { ProgressTracker } from '../progress.ts';
import { RecentCounts } from './recent-counts.ts';

/** What an event carries beyond what {@link JobEvents.emit} fills in itself. */
export type EventFields = Omit<NewEvent, 'type' | 'jobId' | 'tenantId' | 'at' | 'progress'>;

/** What an event needs to know of its job. */
export type EventJob = Pick<JobRecord, 'id' | 'tenantId'> & Partial<Pick<JobRecord, 'pipeline'>>;

/**
 * A job's events: stored first (the event store hands out the gapless `seq`), then published on
 * the bus for live followers. Each carries the job's progress, from the stored counts through one
 * ETA tracker per process, so events and job views agree. The job's own events (`job.*`) count
 * afresh; its documents' and chunks' events may reuse counts read in the last 100 ms
 * (recent-counts.ts), followed by a `job.progress` when the job then goes quiet.
 */
export class JobEvents {
  readonly #store: Pick<Store, 'jobCounts' | 'appendEvent' | 'appendDocumentEnd'>;
  readonly #bus: EventBus;
  readonly #progressIntervalMs: number;
  readonly #progress = new ProgressTracker();
  readonly #lastProgressAt = new Map<string, number>();
  readonly #counts: RecentCounts<EventJob>;
  #closed = false;

  constructor(store: Pick<Store, 'jobCounts' | 'appendEvent' | 'appendDocumentEnd'>, bus: EventBus, progressIntervalMs: number) {
    this.#store = store;
    this.#bus = bus;
    this.#progressIntervalMs = progressIntervalMs;
    this.#counts = new RecentCounts((jobId) => this.#store.jobCounts(jobId), (job) => {
      this.#lastProgressAt.set(job.id, Date.now());
      this.emit(job, 'job.progress', {}).catch((error: unknown) => {
        if (!this.#closed) process.emitWarning(`ream: could not send the progress of job ${job.id}: ${error instanceof Error ? error.message : String(error)}`);
      });
    });
  }

  /** The job's progress from its stored counts, exactly as events report it (same ETA tracker). */
  progress(jobId: string, counts: JobCounts, now = Date.now(), pipeline?: string): Progress {
    return this.#progress.progress(jobId, counts, now, pipeline);
  }

  /** Stores the event (which assigns its gapless `seq`) and fans it out. */
  async emit(job: EventJob, type: EventType, fields: EventFields): Promise<ReamEvent> {
    const now = Date.now();
    const counts = await this.#counts.get(job, type.startsWith('job.'), now);
    const progress = this.#progress.progress(job.id, counts, now, job.pipeline);
    const event = await this.#store.appendEvent({ ...fields, type, jobId: job.id, tenantId: job.tenantId, at: now, progress });
    await this.#publish(event);
    return event;
  }

  /** The store holds the event already; live delivery is best effort (followers catch up from the store). */
  async #publish(event: ReamEvent): Promise<void> {
    await this.#bus.publish(event).catch((error: unknown) => {
      process.emitWarning(`ream: could not publish ${event.type} of job ${event.jobId}: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  /**
   * Ends a document and stores its event in one step (`Store.appendDocumentEnd`), then fans the
   * event out. Undefined, and nothing said, when the document had ended already. The event's
   * progress is counted in that step, after the document and every end stored before it; or, when
   * the job's counts may be reused (a large job, counted a moment ago, before the document ended),
   * from those with the document ended.
   * `uncounted`: the document's page count was not known (it ended before its inspection did).
   */
  async emitDocumentEnd(job: EventJob, end: DocumentEnd, type: EventType, fields: EventFields, uncounted = false): Promise<ReamEvent | undefined> {
    const now = Date.now();
    const made = (counts: JobCounts): NewEvent =>
      ({ ...fields, type, jobId: job.id, tenantId: job.tenantId, at: now, progress: this.#progress.progress(job.id, counts, now, job.pipeline) });
    const kept = this.#counts.reusable(job, now);
    let counted: JobCounts | undefined;
    const event = await this.#store.appendDocumentEnd(end, kept ? made(endedIn(kept, end.status, uncounted)) : (counts) => made((counted = counts)));
    // Kept once stored (a rolled-back end's counts would count it): the time to read them is not
    // known apart from the step's, which stands for it.
    if (event && counted) this.#counts.remember(job, counted, now, Date.now() - now);
    if (event) await this.#publish(event);
    return event;
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
    this.#counts.forget(jobId);
  }

  /** Sends nothing more of its own accord (the engine's adapters are closing). */
  close(): void {
    this.#closed = true;
    this.#counts.clear();
  }
}

/** Counts read while a document was unfinished, with it ended as `status`. */
function endedIn(counts: JobCounts, status: DocumentEnd['status'], uncounted: boolean): JobCounts {
  const ended = { ...counts, ...(uncounted ? { documentsUncounted: Math.max(0, counts.documentsUncounted - 1) } : {}) };
  switch (status) {
    case 'succeeded': return { ...ended, documentsSucceeded: counts.documentsSucceeded + 1 };
    case 'partially_succeeded': return { ...ended, documentsPartial: counts.documentsPartial + 1 };
    case 'failed': return { ...ended, documentsFailed: counts.documentsFailed + 1 };
    case 'cancelled': return { ...ended, documentsCancelled: counts.documentsCancelled + 1 };
    default: return counts;
  }
}
