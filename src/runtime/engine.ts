import { createHash, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import type { BlobFiles } from '../blobs/local-copy.ts';
import type { BlobStore, PutOptions } from '../blobs/port.ts';
import { ReamError, type ErrorInfo } from '../errors.ts';
import type { EventBus, EventFilter, EventListener } from '../events/port.ts';
import type { EventType, NewEvent, Progress, ReamEvent } from '../events/types.ts';
import { fromJson, type JsonObject } from '../json.ts';
import type { PipelineRegistry } from '../pipeline/registry.ts';
import type { DocumentOutput, Pipeline } from '../pipeline/types.ts';
import type { NewTask, TaskQueue } from '../queue/port.ts';
import type { SearchIndex } from '../search/port.ts';
import {
  TERMINAL_DOCUMENT_STATUSES,
  TERMINAL_JOB_STATUSES,
  type DocumentRecord,
  type JobCounts,
  type JobRecord,
  type JobStatus,
  type NewJobDocument,
  type Store,
} from '../store/port.ts';
import type { Formats } from '../formats/registry.ts';
import { mediaTypeByName } from '../formats/sniff.ts';
import { limitJob, type JobLimits } from './job-limits.ts';
import { RESERVED_OPTION, jobMeta, parseWebhook, publicOptions, withJobMeta, type WebhookTarget } from './job-meta.ts';
import { KeyedMutex, type JobLocks } from './keyed-mutex.ts';
import { ProgressTracker } from './progress.ts';
import { TASK_KINDS, taskIds, webhookQueueJobId, type DocumentPayload, type WebhookPayload } from './task-kinds.ts';
import { WebhookAddressGuard } from './webhook-address.ts';
import { WEBHOOK_DEFAULTS } from './webhook-delivery.ts';

export interface EngineDeps {
  store: Store;
  queue: TaskQueue;
  blobs: BlobStore;
  bus: EventBus;
  search: SearchIndex;
  formats: Formats;
  pipelines: PipelineRegistry;
  /**
   * Makes a job's "check then update" sections (start, finish, cancel, retry) atomic. Default:
   * in-process only; several processes sharing one database need a lock they all see
   * (`PostgresJobLocks`).
   */
  locks?: JobLocks;
  /**
   * Local files for blobs, for stores without them (S3). Default: copies under
   * `<os tmpdir>/ream-blob-cache-<pid>`, made only when the blob store has no local files.
   */
  blobFiles?: BlobFiles;
}

export interface EngineSettings {
  /** Attempts per task, including the first. Default 3. */
  maxAttempts: number;
  /** Least time between two `job.progress` events of one job, in ms. Default 1000. */
  progressIntervalMs: number;
  /** Attempts per webhook delivery, including the first. Default 12. */
  webhookMaxAttempts: number;
  /** Longest wait for a webhook receiver's answer, per attempt, in ms. Default 10,000. */
  webhookTimeoutMs: number;
  /** Where webhooks may go, checked at submit and at delivery. Default: public unicast addresses only. */
  webhookGuard: WebhookAddressGuard;
  /** Ceilings on what a job may ask for (see {@link JobLimits}). Default none. */
  jobLimits: JobLimits;
}

export interface CreateJobInput {
  pipeline?: string;
  options?: JsonObject;
  /** Idempotency key: a second create with the same key (and tenant) returns the first job. */
  key?: string;
  tenantId?: string;
  /** Higher runs first. Default 0. */
  priority?: number;
  /** The submitter is an admin: `jobLimits.maxPriority` does not apply. */
  admin?: boolean;
  /** POSTed the job's terminal events (a `webhook.deliver` task, durable and retried). http(s) only. */
  webhook?: WebhookTarget;
}

export interface FileInput {
  /** Path to read the bytes from. */
  path: string;
  /** What to call it in results (default: the path). */
  source?: string;
}

/** A stored document to add to a job, named `source` in results (default: its stored name). */
export interface DocumentToAdd {
  documentId: string;
  source?: string;
}

export interface AddedDocument {
  source: string;
  documentId: string;
  sha256: string;
}

export const DEFAULT_TENANT = 'local';

const TERMINAL_EVENT_TYPES = new Set<EventType>(['job.completed', 'job.failed', 'job.cancelled']);

/**
 * How far back `recover` looks for ended jobs whose webhook delivery was never enqueued: a day
 * covers a process that stays down overnight, well within how long the queues keep task ids
 * for dedupe (so a delivery made already is not made again).
 */
const WEBHOOK_RECOVERY_WINDOW_MS = 24 * 3600_000;

/**
 * The engine: turns jobs into tasks, keeps records, counts progress and emits events. It holds
 * no adapter of its own choosing — `createReam` wires them in — and runs no task itself: a
 * {@link Worker} claims tasks and calls back into {@link DocumentTasks}.
 */
export class Engine {
  readonly deps: EngineDeps;
  readonly settings: EngineSettings;
  readonly #progress = new ProgressTracker();
  readonly #jobLocks: JobLocks;
  readonly #lastProgressAt = new Map<string, number>();
  /** Aborts for running work, per job: cancellation reaches every running task in this process. */
  readonly #running = new Map<string, Set<AbortController>>();

  constructor(deps: EngineDeps, settings: Partial<EngineSettings> = {}) {
    this.deps = deps;
    this.#jobLocks = deps.locks ?? new KeyedMutex();
    this.settings = {
      maxAttempts: 3,
      progressIntervalMs: 1000,
      webhookMaxAttempts: WEBHOOK_DEFAULTS.maxAttempts,
      webhookTimeoutMs: WEBHOOK_DEFAULTS.timeoutMs,
      webhookGuard: new WebhookAddressGuard(),
      jobLimits: {},
      ...settings,
    };
  }

  /**
   * Refuses what `createJob` would refuse (`validation_failed`: an unknown pipeline, bad
   * options, options or a priority past the job limits, a bad webhook) without creating
   * anything — to check a job before its files are uploaded. Answers the job's stored options.
   * A webhook to a refused IP literal is refused here; one to a host name only by
   * {@link checkJob}, which resolves it.
   */
  checkJobInput(input: CreateJobInput = {}): JsonObject {
    if (input.options && Object.hasOwn(input.options, RESERVED_OPTION)) {
      throw ReamError.nonRetryable('validation_failed', `option "${RESERVED_OPTION}" is reserved`);
    }
    const pipeline = input.pipeline ?? 'extract';
    // Refuse bad options now, not in every task; the limits may write their values in.
    const limited = limitJob(
      { pipeline, options: input.options ?? {}, ...(input.priority === undefined ? {} : { priority: input.priority }), ...(input.admin === undefined ? {} : { admin: input.admin }) },
      this.settings.jobLimits,
      (options) => this.buildPipeline(pipeline, options),
    );
    if (input.webhook === undefined) return limited;
    const webhook = parseWebhook(input.webhook);
    this.settings.webhookGuard.checkLiteral(webhook.url);
    return withJobMeta(limited, { webhook });
  }

  /** The pipeline of a job's stored options: the engine's own bookkeeping in them is not the pipeline's to read. */
  buildPipeline(name: string, options: JsonObject): Pipeline {
    return this.deps.pipelines.build(name, publicOptions(options));
  }

  /** {@link checkJobInput}, and the webhook's host resolved and checked (see `WebhookAddressGuard`). */
  async checkJob(input: CreateJobInput = {}): Promise<JsonObject> {
    const options = this.checkJobInput(input);
    if (input.webhook !== undefined) await this.settings.webhookGuard.check(input.webhook.url);
    return options;
  }

  /** Creates a job, or returns the existing one with the same idempotency key. */
  async createJob(input: CreateJobInput = {}): Promise<JobRecord> {
    const tenantId = input.tenantId ?? DEFAULT_TENANT;
    const pipeline = input.pipeline ?? 'extract';
    const options = await this.checkJob(input);
    if (input.key !== undefined) {
      const existing = await this.deps.store.findJobByKey(tenantId, input.key);
      if (existing) return existing;
    }
    const job = await this.deps.store.createJob(
      { id: `job_${randomUUID()}`, tenantId, key: input.key ?? null, pipeline, options, priority: input.priority ?? 0 },
      Date.now(),
    );
    await this.emit(job, 'job.queued', {});
    return job;
  }

  /**
   * Stores a file (streamed, content-addressed) and adds it to the job; its processing starts
   * at once. Adding the same content to the same job again is a no-op.
   */
  async addFile(jobId: string, file: FileInput): Promise<AddedDocument> {
    // The file is opened only once the job is known to take it (as before the stream variant).
    return this.#add(jobId, () => createReadStream(file.path), file.source ?? file.path);
  }

  /**
   * Stores every file (streamed, content-addressed) as the tenant's documents, without adding
   * them to a job; answers them for {@link addDocuments}, named by `source` (default: the path).
   */
  async storeFiles(files: Iterable<FileInput> | AsyncIterable<FileInput>, tenantId: string = DEFAULT_TENANT): Promise<DocumentToAdd[]> {
    const docs: DocumentToAdd[] = [];
    for await (const file of files) {
      const source = file.source ?? file.path;
      const doc = await this.storeDocument(createReadStream(file.path), source, tenantId);
      docs.push({ documentId: doc.id, source });
    }
    return docs;
  }

  /**
   * {@link addFile} from a stream (an upload): `name` is what results call it (its `source`) and
   * picks the media type by extension. The stream is consumed, never buffered whole; if the
   * job is unknown or cancelled it is left unread, for the caller to drain or destroy.
   */
  async addStream(jobId: string, stream: Readable, name: string): Promise<AddedDocument> {
    return this.#add(jobId, () => stream, name);
  }

  async #add(jobId: string, open: () => Readable, source: string): Promise<AddedDocument> {
    const job = await this.#requireJob(jobId);
    this.#refuseCancelled(job);
    const doc = await this.storeDocument(open(), source, job.tenantId);
    const added = { source, documentId: doc.id, sha256: doc.sha256 };
    await this.#attach(job, [added]);
    return added;
  }

  /**
   * Stores bytes (streamed into the blob store, never buffered whole) as the tenant's document
   * named `basename(name)`, without adding it to any job. The same content is one document per
   * tenant. `mediaType` defaults to one picked by the name's extension.
   */
  async storeDocument(
    source: Readable | AsyncIterable<Uint8Array>,
    name: string,
    tenantId: string = DEFAULT_TENANT,
    options: PutOptions & { mediaType?: string } = {},
  ): Promise<DocumentRecord> {
    const { mediaType, ...put } = options;
    const blob = await this.deps.blobs.put(source, put);
    const base = basename(name);
    return this.deps.store.putDocument(
      {
        // Derived from (tenant, content): the same bytes are one document per tenant.
        id: `doc_${createHash('sha256').update(`${tenantId}:${blob.sha256}`).digest('hex').slice(0, 32)}`,
        tenantId,
        sha256: blob.sha256,
        name: base,
        size: blob.size,
        mediaType: mediaType ?? mediaTypeByName(base),
      },
      Date.now(),
    );
  }

  /**
   * Adds a document stored already (by {@link storeDocument}, an upload) to the job, named
   * `source` in results. It must belong to the job's tenant (otherwise `not_found`).
   */
  async addDocument(jobId: string, documentId: string, source?: string): Promise<AddedDocument> {
    const [added] = await this.addDocuments(jobId, [{ documentId, ...(source === undefined ? {} : { source }) }]);
    if (!added) throw new Error('addDocuments answered nothing for one document');
    return added;
  }

  /**
   * Adds documents stored already to the job at once: all are attached before any is scheduled,
   * so the job cannot end between two of them (a job ends when every document it holds has
   * ended — adding one at a time, a fast first document could end the job before the second is
   * in). Each must belong to the job's tenant, else `not_found` and none is added. A document
   * named twice, or in the job already, keeps its first name and place.
   */
  async addDocuments(jobId: string, docs: readonly DocumentToAdd[]): Promise<AddedDocument[]> {
    const job = await this.#requireJob(jobId);
    this.#refuseCancelled(job);
    const added: AddedDocument[] = [];
    for (const { documentId, source } of docs) {
      const doc = await this.deps.store.getDocument(documentId);
      if (!doc || doc.tenantId !== job.tenantId) throw ReamError.nonRetryable('not_found', `no document ${documentId}`);
      added.push({ source: source ?? doc.name, documentId: doc.id, sha256: doc.sha256 });
    }
    await this.#attach(job, added);
    return added;
  }

  async #attach(job: JobRecord, docs: readonly AddedDocument[]): Promise<void> {
    const jobId = job.id;
    // Under the job's lock, with the job read afresh: it may have ended or been cancelled while
    // the bytes were streaming in.
    const fresh = await this.#jobLocks.run(jobId, async () => {
      const current = await this.#requireJob(jobId);
      this.#refuseCancelled(current);
      // One read of what the job holds: it gives the next ordinal and skips repeats.
      const held = new Set((await this.deps.store.listJobDocuments(jobId)).map((doc) => doc.documentId));
      const rows: NewJobDocument[] = [];
      for (const { documentId, source } of docs) {
        if (held.has(documentId)) continue;
        rows.push({ jobId, documentId, ordinal: held.size, source });
        held.add(documentId);
      }
      if (rows.length === 0) return [];
      await this.deps.store.addJobDocuments(rows);
      if (TERMINAL_JOB_STATUSES.includes(current.status)) {
        // A finished job that receives a new document runs again (a resumed CLI run with new files).
        await this.deps.store.updateJob(jobId, { status: 'running', finishedAt: null, error: null });
      }
      return rows.map((row) => row.documentId);
    });
    await this.scheduleDocuments(job, fresh);
  }

  /**
   * Enqueues the documents' first tasks in one call (idempotent: the task ids are derived), in the
   * job's current retry generation.
   */
  async scheduleDocuments(job: JobRecord, documentIds: readonly string[]): Promise<void> {
    if (documentIds.length === 0) return;
    const retry = jobMeta(job.options).retry ?? 0;
    const tasks = documentIds.map(
      (documentId): NewTask => ({
        id: taskIds.inspect(job.id, documentId, retry),
        jobId: job.id,
        kind: TASK_KINDS.inspect,
        payload: retry > 0 ? ({ documentId, retry } satisfies DocumentPayload) : ({ documentId } satisfies DocumentPayload),
        priority: job.priority,
        maxAttempts: this.settings.maxAttempts,
      }),
    );
    await this.deps.queue.enqueue(tasks);
  }

  /**
   * Cancels a job: queued tasks are removed, running ones aborted, unfinished documents marked
   * `cancelled`. Results already made stay readable. Cancelling a finished job changes nothing.
   */
  async cancel(jobId: string): Promise<JobRecord> {
    return this.#jobLocks.run(jobId, async () => {
      const job = await this.#requireJob(jobId);
      if (TERMINAL_JOB_STATUSES.includes(job.status)) return job;
      await this.deps.queue.cancelJob(jobId);
      this.abortRunning(jobId);
      const now = Date.now();
      for (const doc of await this.deps.store.listJobDocuments(jobId)) {
        if (!TERMINAL_DOCUMENT_STATUSES.includes(doc.status)) {
          await this.deps.store.updateJobDocument(jobId, doc.documentId, { status: 'cancelled', finishedAt: now });
        }
      }
      const cancelled = await this.deps.store.updateJob(jobId, { status: 'cancelled', finishedAt: now });
      await this.#emitEnd(cancelled, 'job.cancelled', { message: 'cancelled' });
      this.#forget(jobId);
      return cancelled;
    });
  }

  /**
   * Reruns the failed parts of a finished job (`partially_succeeded` or `failed`): documents that
   * failed at inspection are inspected again; documents that were read get their failed chunks
   * extracted again and are merged again. Succeeded chunks and documents are untouched. The job
   * goes back to `running` (a `job.started` event says which retry) and ends anew. Its tasks get
   * the next retry generation, so their ids are fresh (the queue dedupes by id).
   */
  async retry(jobId: string): Promise<JobRecord> {
    const { job, documentIds } = await this.#jobLocks.run(jobId, async () => {
      const current = await this.#requireJob(jobId);
      if (current.status !== 'partially_succeeded' && current.status !== 'failed') {
        throw ReamError.nonRetryable('validation_failed', `job ${jobId} is ${current.status}: only a partially_succeeded or failed job can be retried`);
      }
      const failed = (await this.deps.store.listJobDocuments(jobId)).filter((doc) => doc.status === 'failed' || doc.status === 'partially_succeeded');
      if (failed.length === 0) throw ReamError.nonRetryable('validation_failed', `job ${jobId} has no failed document to retry`);
      const meta = jobMeta(current.options);
      const retry = (meta.retry ?? 0) + 1;
      // The generation is stored first: a restart in between reschedules in it (see `recover`).
      const running = await this.deps.store.updateJob(jobId, {
        status: 'running', error: null, finishedAt: null, options: withJobMeta(current.options, { ...meta, retry }),
      });
      for (const doc of failed) {
        await this.deps.store.updateJobDocument(jobId, doc.documentId, {
          status: doc.pagesTotal === null ? 'queued' : 'running', error: null, finishedAt: null,
        });
      }
      await this.emit(running, 'job.started', { message: `retry ${retry}: ${failed.length} document(s)` });
      return { job: running, documentIds: failed.map((doc) => doc.documentId) };
    });
    await this.scheduleDocuments(job, documentIds);
    return job;
  }

  /**
   * Deletes a job: cancels it if it runs, then removes its records (job documents, chunk and
   * document results, events). Its documents and their blobs stay (other jobs may share them),
   * as do their search index entries. An unknown job is `not_found`.
   */
  async deleteJob(jobId: string): Promise<void> {
    await this.cancel(jobId);
    await this.#jobLocks.run(jobId, async () => {
      if (!(await this.deps.store.deleteJob(jobId))) throw ReamError.nonRetryable('not_found', `no job ${jobId}`);
    });
    this.#forget(jobId);
  }

  /** Marks the job running the first time any of its work starts. */
  async markStarted(job: JobRecord): Promise<JobRecord> {
    if (job.status !== 'queued') return job;
    return this.#jobLocks.run(job.id, async () => {
      const current = await this.#requireJob(job.id);
      if (current.status !== 'queued') return current;
      const started = await this.deps.store.updateJob(job.id, { status: 'running', startedAt: current.startedAt ?? Date.now() });
      await this.emit(started, 'job.started', {});
      return started;
    });
  }

  /**
   * Ends the job once every document has ended: `succeeded` when all did, `failed` when none
   * did, `partially_succeeded` otherwise. Safe to call any number of times.
   */
  async finalizeIfDone(jobId: string): Promise<void> {
    await this.#jobLocks.run(jobId, async () => {
      const job = await this.#requireJob(jobId);
      if (TERMINAL_JOB_STATUSES.includes(job.status)) return;
      const counts = await this.deps.store.jobCounts(jobId);
      const ended = counts.documentsSucceeded + counts.documentsPartial + counts.documentsFailed + counts.documentsCancelled;
      if (ended < counts.documentsTotal) return;
      let status: JobStatus;
      if (counts.documentsSucceeded === counts.documentsTotal) status = 'succeeded';
      else if (counts.documentsSucceeded + counts.documentsPartial === 0) status = 'failed';
      else status = 'partially_succeeded';
      const error = status === 'failed' && counts.documentsTotal > 0 ? await this.#jobFailure(jobId, counts.documentsFailed) : null;
      const finished = await this.deps.store.updateJob(jobId, { status, error, finishedAt: Date.now() });
      await this.#emitEnd(finished, status === 'failed' ? 'job.failed' : 'job.completed', { ...(error ? { error } : {}) });
      this.#forget(jobId);
    });
  }

  /** A failed job's error: the first failed document's code, so "why" survives at job level. */
  async #jobFailure(jobId: string, failed: number): Promise<ErrorInfo> {
    const first = (await this.deps.store.listJobDocuments(jobId)).find((doc) => doc.error !== null)?.error;
    return { code: first?.code ?? 'cancelled', message: `all ${failed} document(s) failed${first ? `; the first: ${first.message}` : ''}` };
  }

  #forget(jobId: string): void {
    this.#progress.forget(jobId);
    this.#lastProgressAt.delete(jobId);
  }

  /** The job's progress from its stored counts, exactly as events report it (same ETA tracker). */
  progress(jobId: string, counts: JobCounts, now = Date.now()): Progress {
    return this.#progress.progress(jobId, counts, now);
  }

  /** Stores the event (which assigns its gapless `seq`) and fans it out. */
  async emit(
    job: Pick<JobRecord, 'id' | 'tenantId'>,
    type: EventType,
    fields: Omit<NewEvent, 'type' | 'jobId' | 'tenantId' | 'at' | 'progress'>,
  ): Promise<ReamEvent> {
    const now = Date.now();
    const progress = this.#progress.progress(job.id, await this.deps.store.jobCounts(job.id), now);
    const event = await this.deps.store.appendEvent({ ...fields, type, jobId: job.id, tenantId: job.tenantId, at: now, progress });
    // The store holds the event now; live delivery is best effort (followers catch up from the store).
    await this.deps.bus.publish(event).catch((error: unknown) => {
      process.emitWarning(`ream: could not publish ${event.type} of job ${event.jobId}: ${error instanceof Error ? error.message : String(error)}`);
    });
    return event;
  }

  /**
   * A terminal event (`job.completed`, `job.failed`, `job.cancelled`), then its webhook delivery.
   * The event is stored first, so a crash in between loses no event; the delivery of such an
   * event is enqueued by `recover` (the task id is derived from the seq, so never twice).
   */
  async #emitEnd(job: JobRecord, type: EventType, fields: { message?: string; error?: ErrorInfo }): Promise<void> {
    const event = await this.emit(job, type, fields);
    await this.scheduleWebhook(job, event).catch((error: unknown) => {
      // The job has ended all the same; the next `recover` enqueues the delivery.
      process.emitWarning(`ream: could not enqueue the webhook of job ${job.id}: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  /** Enqueues the delivery of a terminal event to the job's webhook, if it has one (idempotent). */
  async scheduleWebhook(job: JobRecord, event: Pick<ReamEvent, 'type' | 'seq'>): Promise<void> {
    if (!jobMeta(job.options).webhook) return;
    await this.deps.queue.enqueue([
      {
        id: taskIds.webhook(job.id, event.seq),
        jobId: webhookQueueJobId(job.id),
        kind: TASK_KINDS.webhook,
        payload: { jobId: job.id, event: event.type, seq: event.seq } satisfies WebhookPayload,
        priority: job.priority,
        maxAttempts: this.settings.webhookMaxAttempts,
      },
    ]);
  }

  /** A `job.progress` event, at most one per `progressIntervalMs` per job. */
  async emitProgress(job: Pick<JobRecord, 'id' | 'tenantId'>): Promise<void> {
    const now = Date.now();
    if (now - (this.#lastProgressAt.get(job.id) ?? 0) < this.settings.progressIntervalMs) return;
    this.#lastProgressAt.set(job.id, now);
    await this.emit(job, 'job.progress', {});
  }

  subscribe(filter: EventFilter, listener: EventListener): () => void {
    return this.deps.bus.subscribe(filter, listener);
  }

  /**
   * Aborts the job's tasks running in this process. `cancel` calls it here; other processes call
   * it when the queue tells them the job was cancelled (`TaskQueue.onJobCancelled`).
   */
  abortRunning(jobId: string): void {
    for (const controller of this.#running.get(jobId) ?? []) {
      controller.abort(ReamError.nonRetryable('cancelled', 'the job was cancelled'));
    }
  }

  /** Registers running work so `cancel` can abort it; returns the function that unregisters. */
  track(jobId: string, controller: AbortController): () => void {
    let set = this.#running.get(jobId);
    if (!set) this.#running.set(jobId, (set = new Set()));
    set.add(controller);
    return () => {
      set.delete(controller);
      if (set.size === 0) this.#running.delete(jobId);
    };
  }

  /**
   * After a restart: makes sure every unfinished job can finish. Documents without a task get
   * one (enqueue dedupes, so existing tasks are untouched), and jobs whose documents all ended
   * are closed. This is what guarantees no job stays `running` forever. Jobs that ended lately
   * get their webhook delivery enqueued if a crash kept it from being enqueued.
   */
  async recover(failStuck: (jobId: string, documentId: string) => Promise<void>): Promise<void> {
    for (const job of await this.deps.store.listUnfinishedJobs()) {
      const unfinished = (await this.deps.store.listJobDocuments(job.id)).filter((doc) => !TERMINAL_DOCUMENT_STATUSES.includes(doc.status));
      await this.scheduleDocuments(job, unfinished.map((doc) => doc.documentId));
      // A queue may end a task behind the engine's back (a lease that expired on its last
      // attempt). If the job has no live task left, its unfinished documents can never finish:
      // fail them, with a reason, rather than leave the job running forever.
      const counts = await this.deps.queue.counts(job.id);
      if (unfinished.length > 0 && counts.queued + counts.waiting + counts.leased === 0) {
        for (const doc of unfinished) await failStuck(job.id, doc.documentId);
      }
      await this.finalizeIfDone(job.id);
    }
    await this.#recoverWebhooks();
  }

  /**
   * A process that died between storing a job's terminal event and enqueueing its delivery left
   * the webhook unsent: enqueue the delivery of the last terminal event of every job with a
   * webhook that ended lately. Enqueue dedupes by the derived task id, so a delivery enqueued
   * (or made) already is not repeated.
   */
  async #recoverWebhooks(): Promise<void> {
    const { store } = this.deps;
    for (const job of await store.listJobsFinishedSince(Date.now() - WEBHOOK_RECOVERY_WINDOW_MS)) {
      if (!jobMeta(job.options).webhook) continue;
      const last = (await store.listEvents(job.id, 0)).findLast((event) => TERMINAL_EVENT_TYPES.has(event.type));
      if (last) await this.scheduleWebhook(job, last);
    }
  }

  /** Final results of the job's ended documents, in input order. */
  async *results(jobId: string): AsyncGenerator<DocumentOutput> {
    for (const doc of await this.deps.store.listJobDocuments(jobId)) {
      const result = await this.deps.store.getDocumentResult(jobId, doc.documentId);
      if (result) yield fromJson<DocumentOutput>(result.output);
    }
  }

  async #requireJob(jobId: string): Promise<JobRecord> {
    const job = await this.deps.store.getJob(jobId);
    if (!job) throw ReamError.nonRetryable('not_found', `no job ${jobId}`);
    return job;
  }

  #refuseCancelled(job: JobRecord): void {
    if (job.status === 'cancelled') throw ReamError.nonRetryable('validation_failed', `job ${job.id} is cancelled: it takes no more files`);
  }
}
