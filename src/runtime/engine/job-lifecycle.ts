import { ReamError, type ErrorInfo } from '../../errors.ts';
import type { EventType } from '../../events/types.ts';
import type { TaskQueue } from '../../queue/port.ts';
import {
  TERMINAL_DOCUMENT_STATUSES,
  TERMINAL_JOB_STATUSES,
  UNFINISHED_JOB_STATUSES,
  type JobDocumentRecord,
  type JobRecord,
  type JobStatus,
  type NewJob,
  type Store,
} from '../../store/port.ts';
import type { AbortRegistry } from './abort-registry.ts';
import type { BlobStore } from '../../blobs/port.ts';
import type { SearchIndex } from '../../search/port.ts';
import type { JobEvents } from './job-events.ts';
import type { WebhookScheduling } from './webhook-scheduling.ts';

/** Report blobs a job's deletion removes at once (each under its content's lock). */
const BLOB_REMOVALS = 4;

/** Ended jobs that a retry takes back. */
const RETRYABLE_JOB_STATUSES: readonly JobStatus[] = ['partially_succeeded', 'failed'];
/** Ended jobs that a new document reopens: a cancelled job takes no more. */
const REOPENABLE_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'partially_succeeded', 'failed'];

export interface LifecycleParts {
  store: Store;
  queue: Pick<TaskQueue, 'cancelJob' | 'announceDocumentCancelled'>;
  events: JobEvents;
  webhooks: WebhookScheduling;
  aborts: AbortRegistry;
  /** Where a deleted job's report files go from. */
  blobs: Pick<BlobStore, 'delete'>;
  /** Where a deleted job's search records go from. */
  search: Pick<SearchIndex, 'forgetJob'>;
  /** Enqueues documents' first tasks in the job's current retry generation. */
  schedule(job: JobRecord, documentIds: readonly string[]): Promise<void>;
  /** Settles the ended job's credits (exactly once per run; `recover` repeats it after a crash). */
  settle(job: JobRecord): Promise<void>;
  /**
   * Why a job that ends with only part of its work done was stopped short (its token budget
   * spent: `budget_exceeded`), or null: its `error`, though it is not `failed`.
   */
  stopReason?(jobId: string): Promise<ErrorInfo | null>;
  /** A retry of the job begins: what stopped its last run short, and no longer holds, is forgotten. */
  retried?(jobId: string): Promise<void>;
}

/**
 * The job state machine: queued → running → succeeded | partially_succeeded | failed | cancelled,
 * back to running on a retry or a new document.
 *
 * Every transition is one conditional update of the job's row (`JobStore.updateJob` with a
 * condition), never a lock: several processes (and several tasks of one process) may race on a
 * job, and of the racers exactly one sees its update apply. Only that one emits the transition's
 * event and does its follow-up work, so each transition is announced once:
 * - start: `queued` → `running`, if still queued — `job.started` once;
 * - finish: to an end status, if still `queued`/`running`, if no document is unfinished, and if
 *   no document was added or reset since the counts were read (`documentsSeq`) — two documents
 *   ending at once both try, one closes, one `job.completed`;
 * - cancel: to `cancelled`, if not ended — cancel and finish exclude each other;
 * - retry: to `running`, if `failed`/`partially_succeeded` — of two retries one runs;
 * - new documents: attached first, then `documentsSeq` bumped, then the job reopened if it had
 *   ended (not if cancelled) — see {@link documentsAdded}. A job held open ({@link holdOpen})
 *   does not finish meanwhile, so a caller adding files one by one sees it end once.
 */
export class JobLifecycle {
  readonly #parts: LifecycleParts;
  /** Jobs held open in this process, and by how many holders. */
  readonly #holds = new Map<string, number>();

  constructor(parts: LifecycleParts) {
    this.#parts = parts;
  }

  /**
   * Stores a new job (or finds the one with its idempotency key) and announces it once. With
   * `announce: false` the caller announces it ({@link announceQueued}) once its documents are
   * attached, so that `job.queued` counts them.
   */
  async create(job: NewJob, now = Date.now(), announce = true): Promise<JobRecord> {
    const stored = await this.#parts.store.createJob(job, now);
    // The store answers the existing job for a key used already: only a job made here is announced.
    if (announce && stored.id === job.id) await this.#parts.events.emit(stored, 'job.queued', {});
    return stored;
  }

  /** `job.queued` for a job created without it, once its first documents are attached (and before any is scheduled). */
  async announceQueued(job: JobRecord): Promise<void> {
    await this.#parts.events.emit(job, 'job.queued', {});
  }

  /**
   * Keeps the job from finishing in this process while its files are still being added: without
   * it, a job whose documents are read faster than they come in ends and reopens between two of
   * them, and says `job.completed` each time. Returns the release (idempotent), which finishes
   * the job if every document has ended. A hold lives in memory only: after a crash, recovery
   * closes the job; another process (a distributed worker) may still finish it meanwhile.
   */
  holdOpen(jobId: string): () => Promise<void> {
    this.#holds.set(jobId, (this.#holds.get(jobId) ?? 0) + 1);
    let released = false;
    return async () => {
      if (released) return;
      released = true;
      const left = (this.#holds.get(jobId) ?? 1) - 1;
      if (left > 0) {
        this.#holds.set(jobId, left);
        return;
      }
      this.#holds.delete(jobId);
      await this.finalizeIfDone(jobId);
    };
  }

  /** Marks the job running the first time any of its work starts (`job.started` once). */
  async markStarted(job: JobRecord): Promise<JobRecord> {
    if (job.status !== 'queued') return job;
    const started = await this.#parts.store.updateJob(job.id, { status: 'running', startedAt: Date.now() }, { ifStatusIn: ['queued'] });
    if (!started) return (await this.#parts.store.getJob(job.id)) ?? job; // another task started it (or it was cancelled)
    await this.#parts.events.emit(started, 'job.started', {});
    return started;
  }

  /**
   * Ends the job once every document has ended: `succeeded` when all did, `failed` when none
   * did, `partially_succeeded` otherwise. Safe to call any number of times, from any process.
   */
  async finalizeIfDone(jobId: string): Promise<void> {
    if (this.#holds.has(jobId)) return; // more files are coming: the last hold's release closes it
    const { store } = this.#parts;
    // The job is read before the counts: its documentsSeq then vouches that the counts saw every document.
    const job = await store.getJob(jobId);
    if (!job || TERMINAL_JOB_STATUSES.includes(job.status)) return;
    // Asked as each document ends: the index answers "some are left" without counting the job.
    if (await store.hasUnfinishedDocuments(jobId)) return;
    const counts = await store.jobCounts(jobId);
    const ended = counts.documentsSucceeded + counts.documentsPartial + counts.documentsFailed + counts.documentsCancelled;
    if (ended < counts.documentsTotal) return;
    let status: JobStatus;
    // Every document cancelled one by one: the job was, in effect, cancelled.
    if (counts.documentsTotal > 0 && counts.documentsCancelled === counts.documentsTotal) status = 'cancelled';
    else if (counts.documentsSucceeded === counts.documentsTotal) status = 'succeeded';
    else if (counts.documentsSucceeded + counts.documentsPartial === 0) status = 'failed';
    else status = 'partially_succeeded';
    // A failed job says why with its first failed document; one that ended with part of its work
    // done says why it was stopped short, when something stopped it (its token budget spent).
    const error = status === 'failed' && counts.documentsTotal > 0
      ? await this.#jobFailure(jobId, counts.documentsFailed)
      : status === 'partially_succeeded' ? ((await this.#parts.stopReason?.(jobId)) ?? null) : null;
    // Exactly once: `ifStatusIn` lets one of two racing closers through; `ifDocumentsEnded` and
    // `ifDocumentsSeq` refuse to close over a document attached meanwhile. The seq matters on
    // PostgreSQL: an UPDATE that waited for another's row lock re-checks that row, but its
    // `not exists` still reads the snapshot it started with, and could miss the new document.
    const finished = await store.updateJob(
      jobId,
      { status, error, finishedAt: Date.now() },
      { ifStatusIn: UNFINISHED_JOB_STATUSES, ifDocumentsEnded: true, ifDocumentsSeq: job.documentsSeq },
    );
    if (!finished) return; // another closer won, or the job changed under us: its own path ends it
    const type = status === 'failed' ? 'job.failed' : status === 'cancelled' ? 'job.cancelled' : 'job.completed';
    await this.#announceEnd(finished, type, { ...(error ? { error } : {}), ...(status === 'cancelled' ? { message: 'every document was cancelled' } : {}) });
  }

  /**
   * Cancels a job: queued tasks are removed, running ones aborted, unfinished documents marked
   * `cancelled`. Results already made stay readable. Cancelling a finished job changes nothing.
   * The job's status changes first (the one conditional update that cancel and finish race on),
   * so a document ending meanwhile cannot close it; the documents follow.
   */
  async cancel(jobId: string): Promise<JobRecord> {
    const { store, queue, aborts } = this.#parts;
    const job = await this.#require(jobId);
    if (TERMINAL_JOB_STATUSES.includes(job.status)) return job;
    const now = Date.now();
    const cancelled = await store.updateJob(jobId, { status: 'cancelled', finishedAt: now }, { ifStatusIn: UNFINISHED_JOB_STATUSES });
    if (!cancelled) return this.#require(jobId); // it ended (or was cancelled) meanwhile: that stands
    // The queue's part (queued tasks removed, running ones aborted in other processes) is best
    // effort: thrown, it left the job cancelled with its documents running and no job.cancelled
    // (no webhook, followers waiting), and a second cancel finds it ended. A task of a cancelled
    // job does nothing when claimed, and one running elsewhere stops at its next heartbeat, which
    // reads the job from the store.
    await queue.cancelJob(jobId).catch((error: unknown) => {
      process.emitWarning(`ream: job ${jobId} is cancelled, but its queued tasks could not be removed now (they do nothing when claimed): ${error instanceof Error ? error.message : String(error)}`);
    });
    aborts.abortRunning(jobId);
    for (const doc of await store.listJobDocuments(jobId)) {
      if (!TERMINAL_DOCUMENT_STATUSES.includes(doc.status)) {
        await store.updateJobDocument(jobId, doc.documentId, { status: 'cancelled', finishedAt: now });
      }
    }
    await this.#announceEnd(cancelled, 'job.cancelled', { message: 'cancelled' });
    return cancelled;
  }

  /**
   * Cancels one document of a running job: it ends `cancelled`, its queued tasks do nothing when
   * claimed (every document task starts by checking that its document has not ended), its running
   * ones are aborted here and, through the queue, in every other process. The other documents go
   * on; the job ends when they do (`partially_succeeded` when some succeeded). Cancelling a
   * document that has ended, or of a job that has, changes nothing. Unknown pair: `not_found`.
   */
  async cancelDocument(jobId: string, documentId: string): Promise<JobDocumentRecord> {
    const { store, queue, aborts } = this.#parts;
    const job = await this.#require(jobId);
    const doc = await store.getJobDocument(jobId, documentId);
    if (!doc) throw ReamError.nonRetryable('not_found', `job ${jobId} has no document ${documentId}`);
    if (TERMINAL_JOB_STATUSES.includes(job.status) || TERMINAL_DOCUMENT_STATUSES.includes(doc.status)) return doc;
    // Conditional: a document whose merge finished it meanwhile keeps its end (and its result).
    // With its event in one step, as a document's end in its task (DocumentTasks' #finishDocument).
    const said = await this.#parts.events.emitDocumentEnd(job, { jobId, documentId, status: 'cancelled', finishedAt: Date.now(), ifStatusIn: ['queued', 'running'] },
      'document.cancelled', { documentId, message: 'cancelled' }, doc.pagesTotal === null);
    const cancelled = await store.getJobDocument(jobId, documentId);
    if (!cancelled) throw ReamError.nonRetryable('not_found', `job ${jobId} has no document ${documentId}`);
    if (!said) return cancelled; // ended, or another cancel won
    aborts.abortRunning(jobId, documentId);
    // Best effort, as in `cancel`: thrown, it left the document cancelled without its event, and
    // its job running when it was the last. Its tasks do nothing when claimed.
    await queue.announceDocumentCancelled?.(jobId, documentId).catch((error: unknown) => {
      process.emitWarning(`ream: document ${documentId} of job ${jobId} is cancelled, but other processes could not be told now (its tasks do nothing when claimed): ${error instanceof Error ? error.message : String(error)}`);
    });
    await this.finalizeIfDone(jobId); // it may have been the last one running
    return cancelled;
  }

  /**
   * Reruns the failed parts of a finished job (`partially_succeeded` or `failed`): documents that
   * failed at inspection are inspected again; documents that were read get their failed chunks
   * extracted again, and the failed pages of their succeeded chunks (a table's failed rows) run
   * again alone, and are merged again. Succeeded pages, chunks and documents are untouched. The job
   * goes back to `running` (a `job.started` event says which retry) and ends anew. Its tasks get
   * the next retry generation, so their ids are fresh (the queue dedupes by id).
   */
  async retry(jobId: string): Promise<JobRecord> {
    const { store } = this.#parts;
    const current = await this.#require(jobId);
    const refuse = (status: JobStatus): ReamError =>
      ReamError.nonRetryable('validation_failed', `job ${jobId} is ${status}: only a partially_succeeded or failed job can be retried`);
    if (!RETRYABLE_JOB_STATUSES.includes(current.status)) throw refuse(current.status);
    const failed = (await store.listJobDocuments(jobId)).filter((doc) => doc.status === 'failed' || doc.status === 'partially_succeeded');
    if (failed.length === 0) throw ReamError.nonRetryable('validation_failed', `job ${jobId} has no failed document to retry`);
    const retry = current.retryGeneration + 1;
    // Of two racing retries one wins here. The generation is stored with the status: tasks
    // scheduled below (and by `recover` after a restart) carry it. A crash before the documents
    // are reset leaves a running job whose documents all ended: `recover` closes it again.
    const running = await store.updateJob(
      jobId,
      { status: 'running', error: null, finishedAt: null, retryGeneration: retry },
      { ifStatusIn: RETRYABLE_JOB_STATUSES },
    );
    if (!running) throw refuse((await this.#require(jobId)).status);
    await this.#parts.retried?.(jobId);
    for (const doc of failed) {
      await store.updateJobDocument(jobId, doc.documentId, { status: doc.pagesTotal === null ? 'queued' : 'running', error: null, finishedAt: null });
    }
    // The documents are unfinished again: a close that counted them ended (a late repeat of an old
    // task) is refused from here on, or, if it got in first, undone.
    const job = (await this.documentsAdded(jobId)) ?? running;
    await this.#parts.events.emit(job, 'job.started', { message: `retry ${retry}: ${failed.length} document(s)` });
    await this.#parts.schedule(job, failed.map((doc) => doc.documentId));
    return job;
  }

  /**
   * Says that documents were attached to the job (or reset for a retry), after they are stored:
   * bumps `documentsSeq` (so a close that counted without them is refused) and reopens the job if
   * it had ended — unless it was cancelled. Answers the job as it now stands, `undefined` if gone.
   */
  async documentsAdded(jobId: string): Promise<JobRecord | undefined> {
    const { store } = this.#parts;
    const bumped = await store.updateJob(jobId, { bumpDocumentsSeq: true }, {});
    if (!bumped || !REOPENABLE_JOB_STATUSES.includes(bumped.status)) return bumped;
    // A finished job that receives a new document runs again (a resumed CLI run with new files).
    const reopened = await store.updateJob(jobId, { status: 'running', finishedAt: null, error: null }, { ifStatusIn: REOPENABLE_JOB_STATUSES });
    return reopened ?? (await store.getJob(jobId));
  }

  /**
   * Deletes a job: cancels it if it runs, then removes its records (job documents, chunk and
   * document results, events) and its report files' blobs, unless another job's results or a
   * document still name the same bytes. Its documents and their blobs stay (other jobs may share
   * them), as do their search index entries. An unknown job is `not_found`.
   */
  async deleteJob(jobId: string): Promise<void> {
    const { store } = this.#parts;
    // A job whose deletion was cut short is gone to every reader, cancel's too: deleting it again
    // finishes the deletion.
    // Its idempotency key is freed first: a submission repeating it while the job is cancelled
    // makes a new job, never one about to go (nor a 404 for it a moment later).
    const current = await store.getJob(jobId);
    const live = current && (await store.updateJob(jobId, { releaseKey: true }, {}));
    const tenantId = live ? (await this.#cancelGivingKeyBack(jobId, current?.key ?? null)).tenantId : (await store.getJob(jobId, { deleting: true }))?.tenantId;
    if (tenantId === undefined) throw ReamError.nonRetryable('not_found', `no job ${jobId}`);
    // Its report blobs are read once it is marked: a merge that records a report after this
    // finds the job gone and removes that report's blob itself; one that did before is read here.
    if (!(await store.markJobDeleting(jobId))) throw ReamError.nonRetryable('not_found', `no job ${jobId}`);
    const artifactBlobs = await store.jobArtifactBlobs(jobId);
    // A batch at a time, so a deletion cut short is finished by deleting again; its pages still
    // count against its tenant's pages of the day (pagesPerDay), once, and deleted documents only
    // it named go with it.
    if (!(await store.deleteJob(jobId))) throw ReamError.nonRetryable('not_found', `no job ${jobId}`);
    this.#parts.events.forget(jobId);
    await this.forgetDeleted(tenantId, jobId, artifactBlobs);
  }

  /**
   * Cancel, for a deletion that freed the job's key: if it fails (the store does not answer) the
   * job is not being deleted, so its key is given back, and a repeat of it still answers this job
   * rather than making a second one beside it. A new job that took the key meanwhile keeps it.
   */
  async #cancelGivingKeyBack(jobId: string, key: string | null): Promise<JobRecord> {
    try {
      return await this.cancel(jobId);
    } catch (error) {
      if (key !== null) await this.#parts.store.updateJob(jobId, { restoreKey: key }, {}).catch(() => undefined);
      throw error;
    }
  }

  /**
   * What a deleted job leaves outside its records: its search entries and its report blobs. Also
   * called by a merge that finished after the job was deleted (in another process), whose
   * entries and reports came after the deletion removed the others.
   */
  async forgetDeleted(tenantId: string, jobId: string, artifactBlobs: readonly string[]): Promise<void> {
    const { store, blobs } = this.#parts;
    // Its documents stay searchable (their pages belong to them), but no longer by this job's id.
    await this.#parts.search.forgetJob(tenantId, jobId);
    // Under the content's lock, as a document's deletion: a document or report of the same bytes
    // stored meanwhile either came first (the blob stays) or puts the blob back after. Several
    // contents at a time (each its own lock): one after another, four statements and a blob
    // store request each, a job of 1,000 report files took 33 s here.
    let next = 0;
    const removeNext = async (): Promise<void> => {
      for (let sha256 = artifactBlobs[next++]; sha256 !== undefined; sha256 = artifactBlobs[next++]) {
        const content = sha256;
        await store.withContentLock(content, async () => {
          if (!(await store.blobInUse(content))) await blobs.delete(content);
        });
      }
    };
    const outcomes = await Promise.allSettled(Array.from({ length: Math.min(BLOB_REMOVALS, artifactBlobs.length) }, removeNext));
    const failed = outcomes.find((outcome) => outcome.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /**
   * The job's credits settled, a terminal event, then its webhook delivery. The event is stored
   * first, so a crash in between loses no event (nor settlement: `recover` settles ended jobs); the delivery of such an event is enqueued by `recover` (the task id is
   * derived from the seq, so never twice).
   */
  async #announceEnd(job: JobRecord, type: EventType, fields: { message?: string; error?: ErrorInfo }): Promise<void> {
    // Settled before the end is announced, so whoever waits for it finds the ledger settled.
    await this.#parts.settle(job).catch((error: unknown) => {
      process.emitWarning(`ream: could not settle the credits of job ${job.id}: ${error instanceof Error ? error.message : String(error)}`);
    });
    const event = await this.#parts.events.emit(job, type, fields);
    await this.#parts.webhooks.scheduleOrWarn(job, event);
    this.#parts.events.forget(job.id);
  }

  /** A failed job's error: the first failed document's code, so "why" survives at job level. */
  async #jobFailure(jobId: string, failed: number): Promise<ErrorInfo> {
    const first = (await this.#parts.store.listJobDocuments(jobId)).find((doc) => doc.error !== null)?.error;
    return { code: first?.code ?? 'cancelled', message: `all ${failed} document(s) failed${first ? `; the first: ${first.message}` : ''}` };
  }

  async #require(jobId: string): Promise<JobRecord> {
    const job = await this.#parts.store.getJob(jobId);
    if (!job) throw ReamError.nonRetryable('not_found', `no job ${jobId}`);
    return job;
  }
}
