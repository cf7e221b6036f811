// The facade: what the HTTP service, the CLI and library callers may use of a ream. Nothing
// outside src/runtime/ reaches the engine or its adapters (eslint.config.js enforces it).
import type { Readable } from 'node:stream';
import type { JobEstimateView, JobView, UsageView } from '../api-types.ts';
import type { JsonObject } from '../json.ts';
import type { ReamError } from '../errors.ts';
import type { LlmProviderSettings } from '../analyzers/llm/settings.ts';
import type { CreditSettings } from './credits/credit-keeper.ts';
import type { TenantAccounts } from './credits/tenant-accounts.ts';
import type { ModelUsage } from '../analyzers/store/port.ts';
import type { ByteRange } from '../blobs/port.ts';
import type { EventFilter, EventListener } from '../events/port.ts';
import type { ReamEvent } from '../events/types.ts';
import type { DocumentOutput, PipelineFactory } from '../pipeline/types.ts';
import type { PipelineDescription } from '../pipeline/registry.ts';
import type { QueueBacklog, TaskStatus } from '../queue/port.ts';
import type { TableOutline } from '../formats/types.ts';
import type { Artifact } from '../reports/artifacts.ts';
import type { ArtifactQuery, ListedArtifact } from '../reports/job-artifacts.ts';
import type { SearchFilters, SearchHit } from '../search/port.ts';
import type {
  ApiKeyRecord,
  DocumentRecord,
  DocumentResultRecord,
  JobCounts,
  JobDocumentPageRequest,
  JobDocumentRecord,
  JobRecord,
  JobStatus,
  JobListPage,
  ListJobsQuery,
  AuditEntry,
  AuditQuery,
  WorkerCommand,
  WorkerRecord,
  MetricsSample,
} from '../store/port.ts';
import type { DistributedSettings } from './deployment.ts';
import type { ErrorGroups } from './error-groups.ts';
import type { AddedDocument, CreateJobInput, DocumentToAdd, FileInput } from './engine.ts';
import type { IntakeLimits } from './intake.ts';
import type { DocumentPageResult, PageBatchOptions, PageSelection, TableBatch, TableBatchOptions } from './document-pages.ts';
import type { CompactReport } from './adapters.ts';
import type { AttachedUploads, AttachUploadsOptions, RetentionReport, RetentionSettings } from './retention.ts';
import type { UnfinishedUploads, UploadExpiry } from './upload-expiry.ts';
import type { RemovedDocument } from './document-removal.ts';
import type { JobLimits } from './job-limits.ts';
import type { StoreDocumentOptions } from './store-document.ts';
import type { SubmitJobInput, SubmittedJob } from './submit-job.ts';
import type { UploadRecords } from './upload-records.ts';
import type { WebhookSettings } from './webhook-delivery.ts';

export type { IntakeLimits } from './intake.ts';
export type { DocumentPageResult, PageBatchOptions, PageSelection, TableBatch, TableBatchOptions } from './document-pages.ts';
export type { AddedDocument, CreateJobInput, DocumentToAdd, FileInput } from './engine.ts';
export type { JobFile, SubmitJobInput, SubmittedJob } from './submit-job.ts';
export type { StoreDocumentOptions } from './store-document.ts';
export { LIBRARY_USE_FILE, markCommandProcess, openedByLibrary } from './library-use.ts';
export { UPLOAD_ID, type FindUploadInProgress, type UploadInProgress, type UploadRecords } from './upload-records.ts';
export type { UploadRecord } from '../store/port.ts';
export type { ModelUsage } from '../analyzers/store/port.ts';
export type { LlmProviderSettings } from '../analyzers/llm/settings.ts';
export { DEFAULT_MAX_MEMORY_MB } from './thread-defaults.ts';
export type { AttachedUploads, AttachUploadsOptions, RetentionReport, RetentionSettings, TenantDays } from './retention.ts';
export type { CompactReport } from './adapters.ts';
export { uploadExpired, type TenantHours, type UnfinishedUpload, type UnfinishedUploads, type UploadExpiry } from './upload-expiry.ts';
export type { RemovedDocument } from './document-removal.ts';
export type { QueueBacklog } from '../queue/port.ts';
export type { CreditSettings } from './credits/credit-keeper.ts';
export { checkPrices, PRICE_KEYS, type CreditPrices } from './credits/prices.ts';
export { checkQuotas, type TenantAccount, type TenantAccounts, type GrantInput } from './credits/tenant-accounts.ts';
export { PAGE_IMAGE_DPI } from './page-images.ts';

/** Where recovery at open stands (see {@link Ream.ready}). */
export type RecoveryState = 'running' | 'done' | 'failed' | 'stopped' | 'off';

export interface ReamOptions {
  /** Folder for the database, blobs and lock (created if missing). Default `.ream` in the working directory. */
  dataDir?: string;
  /** Worker threads for CPU work (parsing). Default: the number of cores. */
  threads?: number;
  /** Tasks in flight at once in this process. Default: 2 × threads. */
  concurrency?: number;
  /** Longest a CPU task (one chunk, one inspection) may run before its thread is killed, in ms. Default 120,000. */
  taskTimeoutMs?: number;
  /**
   * Heap cap per worker thread, in MB; a thread that exceeds it dies with `resource_limit`.
   * Default 512 (peak RSS under 400 MB with two threads); 2048 parses ~20% faster for ~100 MB
   * more per thread (docs/benchmarks.md).
   */
  maxMemoryMb?: number;
  /** Attempts per task, including the first. Default 3. */
  maxAttempts?: number;
  /** Task lease in ms (renewed by heartbeat every third of it). Default 30,000. */
  leaseMs?: number;
  /**
   * Ceilings on what a job may ask for: `maxPages`, `maxBytes`, `minChunkPages` and, for
   * non-admins, `maxPriority` (see {@link JobLimits}). Default none: the library's caller is the
   * operator. `ream serve` sets all of them (docs/security.md).
   */
  jobLimits?: JobLimits;
  /**
   * The model provider of the built-in `llm` pipeline (its API key stays in this process).
   * Default: from `REAM_LLM_*` environment variables; `false`: no `llm` pipeline.
   */
  llm?: LlmProviderSettings | false;
  /** Pipelines of your own, by name, next to the built-in `extract`, `rules` and `llm`. */
  pipelines?: Record<string, PipelineFactory>;
  /**
   * Run tasks in this process. Default true; false makes a submit-only handle (work is done by
   * `ream worker` processes of a distributed deployment). Such a handle holds no timer of its
   * own: a script that only awaits `wait()` keeps its process alive itself (a server does).
   */
  work?: boolean;
  /**
   * Distributed mode: Redis, PostgreSQL and an S3 bucket shared by every process (see
   * docs/deployment.md). Omitted: the embedded default over `dataDir`.
   */
  distributed?: DistributedSettings;
  /** Stop claiming work while memory or event-loop lag is over these limits. Default: no limits. */
  intake?: IntakeLimits;
  /**
   * Credits per tenant: the price table jobs are charged by (per page, OCR page, 1k prompt or
   * completion tokens, rendered PDF). A job's estimate is reserved at submit (`insufficient_credits`
   * past the balance) and settled when it ends. Default: no prices, no ledger checks. Quotas set
   * per tenant (`setQuotas`, `PUT /v1/tenants/:tenant/quotas`) hold either way.
   */
  credits?: CreditSettings;
  /**
   * How long finished jobs (with their results, checkpoints and events) are kept, per tenant;
   * a sweep removes older ones every hour and records each removal in the audit log. Default:
   * kept until deleted. Unfinished tus uploads are kept 24 hours unless `uploadsHours` or
   * `uploadTenants` say otherwise. `ream serve --retention-days`, `--retention-tenant`, ….
   */
  retention?: RetentionSettings;
  /**
   * Called when an admin drains this process's worker (`POST /v1/workers/:id/drain`); `ream
   * worker` drains and exits as on SIGTERM. Default: the worker drains itself and stops working.
   */
  onDrainRequested?: () => void;
  /**
   * Called when this process's worker finds no room to write (a full disk or quota: ENOSPC,
   * SQLITE_FULL, …) running, recording or claiming a task, with that failure as `io_error`; the
   * tasks are kept, to run once space is freed. `ream run` stops at it. Default: warnings only.
   */
  onDiskFull?: (error: ReamError) => void;
  /**
   * See through unfinished jobs at open (schedule documents without a task, close jobs whose
   * work all ended). Default true: `createReam` returns once it has run. `'background'`: it
   * runs while the ream serves (a large backlog no longer holds up the start; recovery is safe
   * beside working tasks, as periodic recovery in distributed mode is), a failure is a warning,
   * and `close` stops it between two jobs. False: none (distributed workers leave it to the server).
   */
  recover?: boolean | 'background';
  /**
   * With `recover: 'background'`: recovery begins once this settles (`ream serve`: once its port
   * is open), so the start does not share the thread with it. Close stops the wait.
   */
  recoverAfter?: PromiseLike<unknown>;
  /** Told when recovery at open has run: how long it took, in ms, and its failure if it failed (`cancelled`: close stopped it). */
  onRecovered?: (durationMs: number, error?: ReamError) => void;
  /**
   * Delivery of job webhooks: attempts, timeout and backoff (see {@link WebhookSettings}). A
   * delivery is a queue task, so any process that works (`work` not false) may send it.
   * `allowPrivate` lifts the rule that webhooks go to public addresses only: give it to every
   * process of a deployment (the server checks at submit, workers at delivery).
   */
  webhooks?: WebhookSettings;
}

export interface SubmitInput extends CreateJobInput {
  files: Iterable<FileInput | string> | AsyncIterable<FileInput | string>;
}

export interface WaitOptions {
  signal?: AbortSignal;
}

/** A search hit with the file name of its document. */
export interface NamedSearchHit extends SearchHit {
  /** The document's stored name (empty if it is gone). */
  name: string;
  /** The newest job of the tenant holding the document (where its page's results are read); null when none. */
  jobId: string | null;
}

/** The library's handle on one ream (embedded or part of a distributed deployment): submit work, follow it, read results. */
export interface Ream {
  /** The resolved data dir (records, blobs, lock; the HTTP service keeps tus uploads under it). */
  readonly dataDir: string;
  /** The distributed deployment this handle is part of; `undefined` when embedded. */
  readonly deployment: DistributedSettings | undefined;
  /** Warnings about the deployment found at open (e.g. a Redis without AOF); also printed as process warnings. */
  readonly warnings: readonly string[];

  // Jobs.
  /**
   * Stores every file, then creates the job with all of them at once (it cannot end before the
   * last is in); resolves once all are stored (processing runs on). Bad options are refused
   * first; a repeat of an idempotency key answers the first job and reads no file.
   */
  submit(input: SubmitInput): Promise<JobRecord>;
  /** The one job intake (see `submitJob` in submit-job.ts): files from paths, streams, stored documents or finished uploads. */
  submitJob(input: SubmitJobInput): Promise<SubmittedJob>;
  /** Creates a job without files (`ream run` adds them one by one), or answers the one with the same idempotency key. */
  createJob(input?: CreateJobInput): Promise<JobRecord>;
  /** Stores a file and adds it to the job; its processing starts at once. The same content twice is a no-op. */
  addFile(jobId: string, file: FileInput): Promise<AddedDocument>;
  /** Adds a file from a stream (an upload), named `name` in results; consumed, never buffered whole. */
  addStream(jobId: string, stream: Readable, name: string): Promise<AddedDocument>;
  /** Adds a document stored already (an upload) to the job; `source` defaults to its name. */
  addDocument(jobId: string, documentId: string, source?: string): Promise<AddedDocument>;
  /** Adds stored documents all at once: the job cannot end between two of them. */
  addDocuments(jobId: string, docs: readonly DocumentToAdd[]): Promise<AddedDocument[]>;
  /**
   * Keeps the job from ending in this process while files are still being added one by one
   * (`ream run` holds its job): it ends once, after the release (idempotent) and its last document.
   */
  holdOpen(jobId: string): () => Promise<void>;
  /**
   * The job as stored; `undefined` when there is none (any tenant: the caller checks ownership),
   * or its deletion has begun, unless `deleting` is set (a deletion cut short is finished by deleting again).
   */
  getJob(jobId: string, options?: { deleting?: boolean }): Promise<JobRecord | undefined>;
  /** One tenant's jobs, newest first, optionally of one status, a page at a time (`cursor` from the last page). */
  listJobs(query: ListJobsQuery): Promise<JobListPage>;
  /** The tenant's job made with this idempotency key, if any. */
  jobByKey(tenantId: string, key: string): Promise<JobRecord | undefined>;
  /** The job's documents and chunks by state. */
  counts(jobId: string): Promise<JobCounts>;
  /** The job as the API shows it, with its current counts and progress (the same as its events'), and its model usage. */
  jobView(job: JobRecord): Promise<JobView>;
  /** Model tokens spent per model: by one job, one tenant, or (no scope) everyone (for /metrics). */
  usage(scope?: { jobId?: string; tenantId?: string }): Promise<ModelUsage[]>;
  /** The same as the API shows it: sums, per model, and a cost when every model has a price; zeros when nothing was spent. */
  usageView(scope?: { jobId?: string; tenantId?: string }): Promise<UsageView>;
  /** Cancels the job: queued work removed, running work aborted; results made stay readable. */
  cancel(jobId: string): Promise<JobRecord>;
  /**
   * Cancels one document of a running job: its queued work never runs, its running work is
   * aborted, it ends `cancelled`; the other documents go on. Unknown job or document: `not_found`.
   */
  cancelDocument(jobId: string, documentId: string): Promise<JobDocumentRecord>;
  /** Reruns only the failed parts of a `partially_succeeded` or `failed` job. */
  retry(jobId: string): Promise<JobRecord>;
  /** Cancels the job if it runs and removes its records; its documents and blobs stay. */
  deleteJob(jobId: string): Promise<void>;
  /** Resolves with the job once it has ended (succeeded, partially_succeeded, failed, cancelled). */
  wait(jobId: string, options?: WaitOptions): Promise<JobRecord>;
  /** Final results of the job's ended documents, in input order. */
  results(jobId: string): AsyncGenerator<DocumentOutput>;
  /** The job's documents in input order, with their status; with `page`, one page of them (see {@link JobDocumentPageRequest}). */
  jobDocuments(jobId: string, page?: JobDocumentPageRequest): Promise<JobDocumentRecord[]>;
  /** One document of the job, with its status; `undefined` when the job does not hold it. */
  jobDocument(jobId: string, documentId: string): Promise<JobDocumentRecord | undefined>;
  /** The final result of one document of the job; `undefined` until it has ended. */
  documentResult(jobId: string, documentId: string): Promise<DocumentResultRecord | undefined>;
  /**
   * One document's pages (a table's rows) in order, each with its text, fields and failure, read
   * from the chunk checkpoints one chunk at a time: the way to read a result whose pages are
   * omitted (`DocumentOutput.pagesOmitted`, a long table), and any other. Empty for a document
   * the job does not hold or that was never inspected. With `selection`, only those pages (a
   * window of rows), reading only the checkpoints that hold them.
   */
  documentPages(jobId: string, documentId: string, selection?: PageSelection): AsyncGenerator<DocumentPageResult>;
  /**
   * {@link documentPages}, a chunk's pages at a time (in order, one array per checkpoint): for
   * a reader of many rows (`ream rows` writing its table), whom a step per row costs more than the row.
   * `options`: from after a page on, and only what is final while the job still runs (`ream rows`
   * writing its table as the batches end).
   */
  documentPageBatches(jobId: string, documentId: string, options?: PageBatchOptions): AsyncGenerator<DocumentPageResult[]>;
  /**
   * {@link documentPageBatches} for a writer of the `rows` table: a checkpoint that stored its
   * rows' CSV records (the `tableCsv` option) with the fields `options.csvFields` comes as those
   * records, read without its rows; any other as its pages.
   */
  documentTableBatches(jobId: string, documentId: string, options?: TableBatchOptions): AsyncGenerator<TableBatch>;
  /**
   * The files the job made (rendered reports), of its ended documents, in the order those ended
   * (each document's in row order); with a query, one document's or row's, a page of them after
   * the `seq` of the last one of the previous page.
   */
  artifacts(jobId: string, query?: ArtifactQuery): Promise<ListedArtifact[]>;
  /** One file the job made, by its name (a direct lookup); undefined when it made none by that name. */
  artifact(jobId: string, name: string): Promise<ListedArtifact | undefined>;
  /** The bytes of one of them, or of `range` of it (`not_found` when its blob is gone). */
  artifactBytes(artifact: Artifact, range?: ByteRange): Promise<Readable>;

  // Documents and uploads.
  /**
   * Stores a stream as the tenant's document (content sniffed: `empty_file`, `unsupported_type`,
   * `invalid_pdf` refuse it unless `onRefuse` is `keep`), without adding it to any job.
   */
  storeDocument(stream: Readable | AsyncIterable<Uint8Array>, name: string, options?: StoreDocumentOptions): Promise<DocumentRecord>;
  /** A stored document; `undefined` when there is none (any tenant: the caller checks ownership). */
  getDocument(documentId: string): Promise<DocumentRecord | undefined>;
  /**
   * Removes a stored document (of `tenantId` when given: another's is `not_found`) with its
   * search entries and, unless another live document (of any tenant) has the same content, its
   * blob. A document an unfinished job uses is `in_use`; finished jobs keep their results, and
   * a retry of one fails the document with `document_deleted`.
   */
  deleteDocument(documentId: string, tenantId?: string): Promise<RemovedDocument>;
  /**
   * A page of a stored document drawn as a PNG (PDFs; `dpi` 36–200, default 96), cached in
   * memory. `not_found` without the document (any tenant: the caller checks ownership),
   * `validation_failed` for a page it does not have, `unsupported_type` for text and tables.
   */
  pageImage(documentId: string, page: number, options?: { dpi?: number; signal?: AbortSignal }): Promise<Buffer>;
  /**
   * A stored table's (CSV, XLSX) sheets with their header columns, to pick the rows pipeline's
   * `sheet` and `columns` from. `not_found` without the document (any tenant: the caller checks
   * ownership), `unsupported_type` for a document that is not a table.
   */
  tableOutline(documentId: string, signal?: AbortSignal): Promise<TableOutline>;
  /** Records of finished tus uploads, shared by every server instance of a deployment. */
  readonly uploads: UploadRecords;

  // Search, events, workers, health.
  /**
   * Page-level full-text search within one tenant (default `local`), best hits first, each with
   * its file name. With filters, `q` may be empty: each matching document's first page, newest first.
   * `offset` skips that many hits of the same order (paging; at most `MAX_SEARCH_OFFSET`).
   */
  search(q: string, options?: { tenantId?: string; limit?: number; offset?: number; filters?: SearchFilters }): Promise<NamedSearchHit[]>;
  /** Live events matching `filter`; returns the function that unsubscribes. Best effort: replay with {@link listEvents}. */
  subscribe(filter: EventFilter, listener: EventListener): () => void;
  /** The job's stored events with `seq` after `afterSeq`, in order, at most `limit` (replay for SSE and WebSocket). */
  listEvents(jobId: string, afterSeq: number, limit?: number): Promise<ReamEvent[]>;
  /** Worker processes heard from since `seenSince` (epoch ms), from their heartbeats. */
  listWorkers(seenSince: number): Promise<WorkerRecord[]>;
  /**
   * Removes finished jobs past their tenant's retention (`ReamOptions.retention`) as of `now`
   * (default: now); answers how many. Runs every `intervalMs` on its own when retention is set.
   */
  sweepRetention(now?: number): Promise<RetentionReport>;
  /**
   * Embedded only (`validation_failed` otherwise): gives back the room deleted jobs and documents
   * left in the data dir — rewrites its SQLite database without their free pages (VACUUM) and
   * removes empty blob folders and stray temp files. Takes as long as copying the database once,
   * and work waits meanwhile: a maintenance step (`ream gc`), not for a busy server.
   */
  compact(): Promise<CompactReport>;
  /**
   * How long unfinished tus uploads live per tenant (`retention.uploadsHours`, `uploadTenants`),
   * with `defaultMs` (a server's own) in place of the default when given.
   */
  uploadExpiry(defaultMs?: number): UploadExpiry;
  /**
   * A server's unfinished uploads, removed past their tenant's lifetime by every retention sweep
   * and every `intervalMs`; answers how to detach them (on the server's close), and to remove one
   * found expired between sweeps (audited the same way).
   */
  attachUploads(uploads: UnfinishedUploads, options: AttachUploadsOptions): AttachedUploads;
  /** Appends to the audit log (append-only); answers the entry's id. */
  appendAudit(entry: Omit<AuditEntry, 'id'>): Promise<string>;
  /** Audit log entries, oldest first. */
  listAudit(query: AuditQuery): Promise<AuditEntry[]>;
  /** Credits and quotas per tenant: accounts, grants, quotas, the ledger (see {@link ReamOptions.credits}). */
  readonly tenants: TenantAccounts;
  /** Leaves `command` for a worker, heard at its next beat; false when no such worker is recorded. */
  commandWorker(id: string, command: WorkerCommand): Promise<boolean>;
  /** Jobs by status across every tenant (for /metrics). */
  jobStatusCounts(): Promise<Record<JobStatus, number>>;
  /** Queue tasks by status, of one job (its id) or of all. */
  taskCounts(jobId?: string): Promise<Record<TaskStatus, number>>;
  /**
   * The queue's work per priority level, highest first: tasks claimable now, delayed (future or
   * retry), running, and since when the level's longest-waiting claimable task has been due.
   */
  queueBacklog(): Promise<QueueBacklog[]>;
  /** When the oldest job still `queued` (not started) was created, any tenant; null when none. */
  oldestQueuedJobAt(): Promise<number | null>;
  /** Stores one interval's sample in the metrics history, a ring of `capacity`; false when the interval was sampled already. */
  putMetricsSample(sample: MetricsSample, capacity: number): Promise<boolean>;
  /** The metrics history from `since` (epoch ms), oldest first. */
  metricsHistory(since: number): Promise<MetricsSample[]>;
  /**
   * What a job of `documents` documents would reserve at submit (pages, and credits when jobs are
   * priced), with the tenant's balance; the input is checked as a submit checks it.
   */
  estimateJob(input: { tenantId: string; pipeline?: string; options?: JsonObject; documents: number }): Promise<JobEstimateView>;
  /**
   * {@link estimateJob} for stored documents of the tenant (`not_found` for another's or an
   * unknown one): their pages counted as the job would count them, within a time budget; and
   * `unstored` more documents not stored yet (still uploading), a page each.
   */
  estimateStoredJob(input: { tenantId: string; pipeline?: string; options?: JsonObject; documentIds: readonly string[]; unstored?: number; signal?: AbortSignal }): Promise<JobEstimateView>;
  /** Every pipeline jobs may name, with the JSON Schema its options are checked against (`GET /v1/pipelines`). */
  pipelines(): PipelineDescription[];
  /** Failed chunks and documents since `since` (epoch ms), of one tenant or (none) all, grouped by error code with a sample each. */
  errorGroups(query: { tenantId?: string; since: number }): Promise<ErrorGroups>;
  /**
   * Resolves when the store, the queue and the blob store all answer (readiness); else rejects with
   * `unavailable` naming the one that does not. Says where recovery at open stands: `running`
   * (with `recover: 'background'`, until it ends), `done`, `failed` or `stopped` (close stopped
   * it; the next start finishes it), `off` (`recover: false`).
   */
  ready(): Promise<{ recovery: RecoveryState }>;
  /** The live (not revoked) API key of a presented token, else `undefined`. */
  findApiKey(token: string): Promise<ApiKeyRecord | undefined>;
  /** Whether the API key `keyId` of `tenantId` exists and is not revoked: for what acts as a key after the request that showed it (a download ticket). */
  apiKeyLive(tenantId: string, keyId: string): Promise<boolean>;

  /**
   * Graceful drain: stops claiming, lets running tasks finish for up to `timeoutMs`, releases
   * what still runs to the queue, then closes.
   */
  drain(timeoutMs: number): Promise<void>;
  /** Stops taking work, leaves unfinished tasks for the next start, and closes everything. */
  close(): Promise<void>;
}
