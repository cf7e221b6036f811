import type { AnalysisStore } from '../analyzers/store/port.ts';
import { budgetStopError } from '../analyzers/store/budget-stop.ts';
import { fileReadError, ReamError } from '../errors.ts';
import { documentOutput } from './document-output.ts';
import { openFileStream } from './open-file.ts';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobFiles } from '../blobs/local-copy.ts';
import type { BlobStore } from '../blobs/port.ts';
import type { EventBus, EventFilter, EventListener } from '../events/port.ts';
import type { EventType, Progress, ReamEvent } from '../events/types.ts';
import type { JsonObject } from '../json.ts';
import type { PipelineDescription, PipelineRegistry } from '../pipeline/registry.ts';
import type { DocumentOutput, Pipeline } from '../pipeline/types.ts';
import type { TaskQueue } from '../queue/port.ts';
import type { SearchIndex } from '../search/port.ts';
import { DEFAULT_TENANT, type DocumentEnd, type DocumentRecord, type JobCounts, type JobDocumentRecord, type JobRecord, type Store } from '../store/port.ts';
import type { Formats } from '../formats/registry.ts';
import { AbortRegistry } from './engine/abort-registry.ts';
import { JobEvents, type EventFields, type EventJob } from './engine/job-events.ts';
import { JobInputCheck, type CheckedJob, type CreateJobInput } from './engine/job-input.ts';
import { JobIntake, type AddedDocument, type DocumentToAdd, type FileInput, type StoreOptions } from './engine/job-intake.ts';
import { JobLifecycle } from './engine/job-lifecycle.ts';
import { recoverJobs } from './engine/recovery.ts';
import { scheduleDocuments } from './engine/task-scheduling.ts';
import { WebhookScheduling } from './engine/webhook-scheduling.ts';
import { CreditKeeper } from './credits/credit-keeper.ts';
import type { JobLimits } from './job-limits.ts';
import { PRIORITIES } from './job-view.ts';
import { PageCounter, pagesToReserve, type UncountedDocument } from './page-counts.ts';
import { WebhookAddressGuard } from './webhook-address.ts';
import { WEBHOOK_DEFAULTS } from './webhook-delivery.ts';
import { checkJobRepeat } from './idempotent-repeat.ts';

export type { CreateJobInput } from './engine/job-input.ts';
export type { AddedDocument, DocumentToAdd, FileInput } from './engine/job-intake.ts';

export interface EngineDeps {
  store: Store;
  queue: TaskQueue;
  blobs: BlobStore;
  bus: EventBus;
  search: SearchIndex;
  formats: Formats;
  pipelines: PipelineRegistry;
  /**
   * Local files for blobs, for stores without them (S3). Default: copies under
   * `<os tmpdir>/ream-blob-cache-<pid>`, made only when the blob store has no local files.
   */
  blobFiles?: BlobFiles;
  /** Analyzers' response cache and usage ledger (LLM); absent: analyzers keep their own in memory. */
  analysis?: AnalysisStore;
}

/** What a job of stored documents would reserve: {@link Engine.estimateStoredJob}. */
export interface StoredJobEstimate {
  pages: number;
  credits: number;
  priced: boolean;
  /** Pages of the counted documents. */
  pagesCounted: number;
  /** Tables read as rows (`rows` jobs): their data rows. */
  rows?: number;
  documentsCounted: number;
  documentsNotCounted: UncountedDocument[];
}

/** The records and services behind an engine that the runtime around it reads directly. */
export type EnginePorts = Readonly<Pick<EngineDeps, 'store' | 'queue' | 'blobs' | 'search' | 'analysis'>>;

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
  /** Credits and quotas per tenant: checked and reserved at submit, settled at each job end. Default: quotas only, no prices. */
  credits: CreditKeeper;
}

/**
 * The engine: turns jobs into tasks, keeps records, counts progress and emits events. A thin
 * composition of its parts (src/runtime/engine/): input checks, intake, the job lifecycle, job
 * events, webhook scheduling, the abort registry and recovery. It holds no adapter of its own
 * choosing — `createReam` wires them in — and runs no task itself: a {@link Worker} claims tasks
 * and calls back into {@link DocumentTasks}.
 */
export class Engine {
  readonly #deps: EngineDeps;
  readonly settings: EngineSettings;
  readonly #input: JobInputCheck;
  readonly #events: JobEvents;
  readonly #webhooks: WebhookScheduling;
  readonly #aborts = new AbortRegistry();
  readonly #lifecycle: JobLifecycle;
  readonly #intake: JobIntake;
  /** Pages of stored documents counted before a submit (estimates), cached per content hash. */
  readonly pageCounts: PageCounter;
  #countFiles: BlobFiles | undefined;

  constructor(deps: EngineDeps, settings: Partial<EngineSettings> = {}) {
    this.#deps = deps;
    this.settings = {
      maxAttempts: 3,
      progressIntervalMs: 1000,
      webhookMaxAttempts: WEBHOOK_DEFAULTS.maxAttempts,
      webhookTimeoutMs: WEBHOOK_DEFAULTS.timeoutMs,
      webhookGuard: new WebhookAddressGuard(),
      jobLimits: {},
      ...settings,
      credits: settings.credits ?? new CreditKeeper(deps.store),
    };
    const { store, queue, blobs, bus, search } = deps;
    const schedule = (job: JobRecord, documentIds: readonly string[]): Promise<void> => this.scheduleDocuments(job, documentIds);
    this.#input = new JobInputCheck(deps.pipelines, this.settings.jobLimits, this.settings.webhookGuard);
    this.#events = new JobEvents(store, bus, this.settings.progressIntervalMs);
    this.#webhooks = new WebhookScheduling(store, queue, this.settings.webhookMaxAttempts);
    const { credits } = this.settings;
    const { analysis } = deps;
    this.#lifecycle = new JobLifecycle({
      store, queue, blobs, search, events: this.#events, webhooks: this.#webhooks, aborts: this.#aborts, schedule, settle: (job) => credits.settle(job),
      ...(analysis ? { stopReason: (jobId: string) => budgetStopError(analysis, jobId), retried: (jobId: string) => analysis.forgetHeldStop(jobId) } : {}),
    });
    this.#intake = new JobIntake({ store, blobs, lifecycle: this.#lifecycle, schedule, reserveAdded: (job, ids) => credits.reserveAdded(job, ids) });
    this.pageCounts = new PageCounter({
      formats: deps.formats,
      blobFiles: () => deps.blobFiles ?? (this.#countFiles ??= new BlobFiles(blobs, { dir: join(tmpdir(), `ream-page-counts-${process.pid}`) })),
    });
  }

  /**
   * Runtime-internal: the store, queue, blobs and search the engine runs on, for the code that
   * wires it up (createReam) and reads records directly. Not part of the library's API.
   */
  get ports(): EnginePorts {
    const { store, queue, blobs, search, analysis } = this.#deps;
    return { store, queue, blobs, search, analysis };
  }

  /** Every pipeline jobs may name, with the JSON Schema its options are checked against. */
  describePipelines(): PipelineDescription[] {
    return this.#deps.pipelines.describe();
  }

  /**
   * Refuses what `createJob` would refuse (`validation_failed`: an unknown pipeline, bad
   * options, options or a priority past the job limits, a bad webhook) without creating
   * anything — to check a job before its files are uploaded. Answers the job's stored options.
   * A webhook to a refused IP literal is refused here; one to a host name only by
   * {@link checkJob}, which resolves it.
   */
  checkJobInput(input: CreateJobInput = {}): JsonObject {
    return this.#input.checkSync(input).options;
  }

  /**
   * What a job of `documents` documents would reserve at submit, its input checked as `createJob`
   * checks it (`validation_failed`): pages (a page per document until they are read) and credits
   * (0 when jobs are not priced). The job is charged what it really uses when it ends.
   */
  estimateJob(input: CreateJobInput, documents: number): { pages: number; credits: number; priced: boolean } {
    const options = this.checkJobInput(input);
    return { ...this.settings.credits.estimate({ documents, options }), priced: this.settings.credits.enabled };
  }

  /**
   * {@link estimateJob} for stored documents, their pages counted as the job's inspection would
   * count them (within a time budget, cached per content hash; see {@link PageCounter}), and
   * `unstored` documents not stored yet at a page each.
   */
  async estimateStoredJob(input: CreateJobInput, docs: readonly DocumentRecord[], { unstored = 0, signal }: { unstored?: number; signal?: AbortSignal } = {}): Promise<StoredJobEstimate> {
    const options = this.checkJobInput(input);
    const pipeline = this.buildPipeline(input.pipeline ?? 'extract', options);
    const counts = await this.pageCounts.count(docs, pipeline, signal);
    const pagesCounted = [...counts.counted.values()].reduce((sum, pages) => sum + pages, 0);
    // As the submit reserves them (and one page for each document not stored yet).
    const pages = pagesToReserve(docs, counts.counted) + unstored;
    const estimate = this.settings.credits.estimate({ documents: docs.length + unstored, pages, options });
    return {
      ...estimate, priced: this.settings.credits.enabled, pagesCounted,
      ...(pipeline.read?.tablePages === 'rows' ? { rows: counts.rows } : {}),
      documentsCounted: counts.counted.size, documentsNotCounted: counts.notCounted,
    };
  }

  /** The pipeline a job's options make. */
  buildPipeline(name: string, options: JsonObject): Pipeline {
    return this.#input.build(name, options);
  }

  /**
   * {@link checkJobInput}, and the webhook's host resolved and checked (see `WebhookAddressGuard`).
   * Hand the answer to {@link createJob} to create the job as checked, without resolving again.
   */
  async checkJob(input: CreateJobInput = {}): Promise<CheckedJob> {
    return this.#input.check(input);
  }

  /**
   * Creates a job, or returns the existing one with the same idempotency key. `checked`: what
   * {@link checkJob} answered for this input (otherwise it is checked here).
   */
  /** `announce: false`: `job.queued` waits for the first documents (see {@link addDocuments}). */
  async createJob(input: CreateJobInput = {}, checked?: CheckedJob, announce = true): Promise<JobRecord> {
    return (await this.createOrFindJob(input, checked, announce)).job;
  }

  /**
   * {@link createJob}, saying whether this call made the job: `created: false` when a job with
   * the key existed, or another request with it made one meanwhile (a repeat sent twice at once).
   */
  async createOrFindJob(input: CreateJobInput = {}, checked?: CheckedJob, announce = true): Promise<{ job: JobRecord; created: boolean }> {
    const tenantId = input.tenantId ?? DEFAULT_TENANT;
    const asChecked = checked ?? (await this.#input.check(input));
    const { options, webhook } = asChecked;
    const { key } = input;
    if (key !== undefined) {
      const existing = await this.#deps.store.findJobByKey(tenantId, key);
      if (existing) {
        checkJobRepeat(existing, key, input, asChecked);
        return { job: existing, created: false };
      }
    }
    const id = `job_${randomUUID()}`;
    const stored = await this.#lifecycle.create({
      id,
      tenantId,
      key: input.key ?? null,
      pipeline: input.pipeline ?? 'extract',
      options,
      // The API's default: a job nobody ranked runs after high ones and before low ones.
      priority: input.priority ?? PRIORITIES.normal,
      webhook,
    }, Date.now(), announce);
    // Another request with the key created its job meanwhile: the store answered that one.
    if (key !== undefined && stored.id !== id) checkJobRepeat(stored, key, input, asChecked);
    return { job: stored, created: stored.id === id };
  }

  /**
   * Stores a file (streamed, content-addressed) and adds it to the job; its processing starts
   * at once. Adding the same content to the same job again is a no-op.
   */
  async addFile(jobId: string, file: FileInput): Promise<AddedDocument> {
    let stream: Readable | undefined;
    try {
      // The file is opened only once the job is known to take it; closed whatever happens then.
      return await this.#intake.add(jobId, async () => (stream = await openFileStream(file.path)), file.source ?? file.path);
    } finally {
      stream?.destroy();
    }
  }

  /**
   * {@link addFile} from a stream (an upload): `name` is what results call it (its `source`) and
   * picks the media type by extension. The stream is consumed, never buffered whole; if the
   * job is unknown or cancelled it is left unread, for the caller to drain or destroy.
   */
  async addStream(jobId: string, stream: Readable, name: string): Promise<AddedDocument> {
    // Listened to from the start: a stream that fails while the job is checked (a file that
    // does not open) would otherwise emit 'error' with no listener, which ends the process.
    const ignore = (): void => {};
    stream.on('error', ignore);
    try {
      return await this.#intake.add(jobId, () => {
        if (stream.errored) throw fileReadError(name, stream.errored);
        return stream;
      }, name);
    } catch (error) {
      throw stream.errored && !(error instanceof ReamError) ? fileReadError(name, stream.errored) : error;
    } finally {
      stream.off('error', ignore);
    }
  }

  /** See {@link JobIntake.storeDocument}. */
  async storeDocument(
    source: Readable | AsyncIterable<Uint8Array>,
    name: string,
    tenantId: string = DEFAULT_TENANT,
    options: StoreOptions = {},
  ): Promise<DocumentRecord> {
    return this.#intake.storeDocument(source, name, tenantId, options);
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

  /** See {@link JobIntake.addDocuments}: all attached before any is scheduled. */
  /** `announceQueued`: the job was created without `job.queued`; it is said once these are attached. */
  async addDocuments(jobId: string, docs: readonly DocumentToAdd[], announceQueued = false): Promise<AddedDocument[]> {
    return this.#intake.addDocuments(jobId, docs, announceQueued);
  }

  /** Enqueues the documents' first tasks (idempotent), in the job's current retry generation. */
  async scheduleDocuments(job: JobRecord, documentIds: readonly string[]): Promise<void> {
    await scheduleDocuments(this.#deps.queue, this.settings.maxAttempts, job, documentIds);
  }

  /** See {@link JobLifecycle.cancel}. */
  cancel(jobId: string): Promise<JobRecord> {
    return this.#lifecycle.cancel(jobId);
  }

  /** See {@link JobLifecycle.cancelDocument}. */
  cancelDocument(jobId: string, documentId: string): Promise<JobDocumentRecord> {
    return this.#lifecycle.cancelDocument(jobId, documentId);
  }

  /**
   * See {@link JobLifecycle.retry}. A retry is work the tenant pays for: the pages it reads again
   * ({@link CreditKeeper.redoPages}) are checked against the pages-per-day
   * quota and the balance first, and held until the retry's settlement charges what it read.
   */
  async retry(jobId: string): Promise<JobRecord> {
    const job = await this.#deps.store.getJob(jobId);
    const redo = job ? (await this.#deps.store.listJobDocuments(jobId)).filter((doc) => doc.status === 'failed' || doc.status === 'partially_succeeded') : [];
    const pages = job && redo.length > 0 ? await this.settings.credits.redoPages(jobId, redo) : 0;
    const estimate = job && redo.length > 0 ? await this.settings.credits.admit({ tenantId: job.tenantId, documents: redo.length, pages, options: job.options }) : undefined;
    const retried = await this.#lifecycle.retry(jobId);
    if (estimate) await this.settings.credits.reserveRetry(retried, estimate);
    return retried;
  }

  /** See {@link JobLifecycle.forgetDeleted}. */
  forgetDeletedJob(tenantId: string, jobId: string, artifactBlobs: readonly string[]): Promise<void> {
    return this.#lifecycle.forgetDeleted(tenantId, jobId, artifactBlobs);
  }

  /** See {@link JobLifecycle.deleteJob}. */
  deleteJob(jobId: string): Promise<void> {
    return this.#lifecycle.deleteJob(jobId);
  }

  /** Marks the job running the first time any of its work starts. */
  markStarted(job: JobRecord): Promise<JobRecord> {
    return this.#lifecycle.markStarted(job);
  }

  /** See {@link JobLifecycle.holdOpen}. */
  holdOpen(jobId: string): () => Promise<void> {
    return this.#lifecycle.holdOpen(jobId);
  }

  /** Ends the job once every document has ended (exactly once, see {@link JobLifecycle}). */
  finalizeIfDone(jobId: string): Promise<void> {
    return this.#lifecycle.finalizeIfDone(jobId);
  }

  /** The job's stored counts (documents, chunks, pages). */
  jobCounts(jobId: string): Promise<JobCounts> {
    return this.#deps.store.jobCounts(jobId);
  }

  /** The job's progress from its stored counts, exactly as events report it (same ETA tracker). */
  progress(jobId: string, counts: JobCounts, now = Date.now(), pipeline?: string): Progress {
    return this.#events.progress(jobId, counts, now, pipeline);
  }

  /** Stores the event (which assigns its gapless `seq`) and fans it out. */
  emit(job: EventJob, type: EventType, fields: EventFields): Promise<ReamEvent> {
    return this.#events.emit(job, type, fields);
  }

  /** Ends a document and stores its event at once (JobEvents.emitDocumentEnd); undefined if it had ended. */
  emitDocumentEnd(job: EventJob, end: DocumentEnd, type: EventType, fields: EventFields, uncounted?: boolean): Promise<ReamEvent | undefined> {
    return this.#events.emitDocumentEnd(job, end, type, fields, uncounted);
  }

  /** A `job.progress` event, at most one per `progressIntervalMs` per job. */
  emitProgress(job: Pick<JobRecord, 'id' | 'tenantId'>): Promise<void> {
    return this.#events.emitProgress(job);
  }

  /** Enqueues the delivery of a terminal event to the job's webhook, if it has one (idempotent). */
  scheduleWebhook(job: JobRecord, event: Pick<ReamEvent, 'type' | 'seq'>): Promise<void> {
    return this.#webhooks.schedule(job, event);
  }

  subscribe(filter: EventFilter, listener: EventListener): () => void {
    return this.#events.subscribe(filter, listener);
  }

  /** Sends no more events of its own accord (a quiet job's closing `job.progress`): the adapters are closing. */
  stopEvents(): void {
    this.#events.close();
  }

  /** The registry of work running in this process, for the worker to track and cancellation to abort. */
  get aborts(): AbortRegistry {
    return this.#aborts;
  }

  /** Aborts the job's (or one document's) tasks running in this process (another process cancelled it). */
  abortRunning(jobId: string, documentId?: string): void {
    this.#aborts.abortRunning(jobId, documentId);
  }

  /** See {@link recoverJobs}. */
  async recover(failStuck: (jobId: string, documentId: string) => Promise<void>, signal?: AbortSignal): Promise<boolean> {
    const { store, queue } = this.#deps;
    const { credits } = this.settings;
    return recoverJobs({ store, queue, lifecycle: this.#lifecycle, webhooks: this.#webhooks, settle: (job) => credits.settle(job), schedule: (job, ids) => this.scheduleDocuments(job, ids) }, failStuck, signal);
  }

  /** Final results of the job's ended documents, in input order. */
  async *results(jobId: string): AsyncGenerator<DocumentOutput> {
    const { store } = this.#deps;
    const pipeline = this.#pipelineOf(jobId);
    for (const doc of await store.listJobDocuments(jobId)) {
      const output = await documentOutput(store, pipeline, doc);
      if (output) yield output;
    }
  }

  /** One document's result, as {@link results} gives it; none until it has ended. */
  async documentResult(jobId: string, documentId: string): Promise<DocumentOutput | undefined> {
    const jobDoc = await this.#deps.store.getJobDocument(jobId, documentId);
    return jobDoc && documentOutput(this.#deps.store, this.#pipelineOf(jobId), jobDoc);
  }

  /** The pipeline of a job, built once when first needed (a cancelled document's result needs its chunking). */
  #pipelineOf(jobId: string): () => Promise<Pipeline> {
    let built: Promise<Pipeline> | undefined;
    return () => built ??= (async () => {
      const job = await this.#deps.store.getJob(jobId);
      if (!job) throw ReamError.nonRetryable('not_found', `no job ${jobId}`);
      return this.buildPipeline(job.pipeline, job.options);
    })();
  }
}
