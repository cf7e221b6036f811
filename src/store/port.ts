import type { ErrorInfo } from '../errors.ts';
import type { NewEvent, ReamEvent } from '../events/types.ts';
import type { JsonObject, JsonValue } from '../json.ts';

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'partially_succeeded' | 'failed' | 'cancelled';
export const JOB_STATUSES: readonly JobStatus[] = ['queued', 'running', 'succeeded', 'partially_succeeded', 'failed', 'cancelled'];
export const TERMINAL_JOB_STATUSES: readonly JobStatus[] = ['succeeded', 'partially_succeeded', 'failed', 'cancelled'];

/** `partially_succeeded`: the document was read, but some of its pages failed (see its result). */
export type DocumentStatus = 'queued' | 'running' | 'succeeded' | 'partially_succeeded' | 'failed' | 'cancelled';
export const TERMINAL_DOCUMENT_STATUSES: readonly DocumentStatus[] = ['succeeded', 'partially_succeeded', 'failed', 'cancelled'];
export type ChunkStatus = 'succeeded' | 'failed';

export interface JobRecord {
  id: string;
  tenantId: string;
  /** Idempotency key, unique per tenant when set. */
  key: string | null;
  pipeline: string;
  options: JsonObject;
  /** Higher runs first. */
  priority: number;
  status: JobStatus;
  error: ErrorInfo | null;
  /** Epoch ms. */
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
}

export type NewJob = Pick<JobRecord, 'id' | 'tenantId' | 'key' | 'pipeline' | 'options' | 'priority'>;
export type JobPatch = Partial<Pick<JobRecord, 'status' | 'error' | 'startedAt' | 'finishedAt' | 'options'>>;

/** One stored file, content-addressed: unique per (tenantId, sha256). */
export interface DocumentRecord {
  id: string;
  tenantId: string;
  sha256: string;
  /** The file name it was first stored under (display only; never a filesystem path to open). */
  name: string;
  size: number;
  /** e.g. `application/pdf`, `text/plain`, `text/markdown`. */
  mediaType: string;
  createdAt: number;
}

/** A document's place in a job: the unit of work and of progress. */
export interface JobDocumentRecord {
  jobId: string;
  documentId: string;
  /** Position in the job's input: results come back in this order. */
  ordinal: number;
  /** Where the user said it came from (a path given to the CLI, an upload name). */
  source: string;
  status: DocumentStatus;
  /** Known once the document was inspected. */
  pagesTotal: number | null;
  chunksTotal: number | null;
  /** What inspection found (metadata, media type details); free-form per format. */
  info: JsonValue | null;
  error: ErrorInfo | null;
  startedAt: number | null;
  finishedAt: number | null;
}

export type NewJobDocument = Pick<JobDocumentRecord, 'jobId' | 'documentId' | 'ordinal' | 'source'>;
export type JobDocumentPatch = Partial<
  Pick<JobDocumentRecord, 'status' | 'pagesTotal' | 'chunksTotal' | 'info' | 'error' | 'startedAt' | 'finishedAt'>
>;

/** The checkpoint of one chunk. Writing it again (a repeated task) replaces it: idempotent. */
export interface ChunkResultRecord {
  jobId: string;
  documentId: string;
  index: number;
  /** First page, 0-based inclusive. */
  from: number;
  /** Last page, 0-based exclusive. */
  to: number;
  status: ChunkStatus;
  output: JsonValue | null;
  error: ErrorInfo | null;
  durationMs: number;
}

export interface DocumentResultRecord {
  jobId: string;
  documentId: string;
  output: JsonValue;
}

/** Counted in the store from what is recorded, so repeats never double-count. */
export interface JobCounts {
  documentsTotal: number;
  documentsSucceeded: number;
  /** Documents that ended `partially_succeeded`. */
  documentsPartial: number;
  documentsFailed: number;
  documentsCancelled: number;
  /** Sum of known page counts. */
  pagesTotal: number;
  /** Pages in chunks that have a result (succeeded or failed). */
  pagesDone: number;
  chunksTotal: number;
  chunksSucceeded: number;
  chunksFailed: number;
}

export interface ListJobsQuery {
  tenantId: string;
  status?: JobStatus;
  /** Default 50, at most 500. */
  limit?: number;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type ApiKeyRole = 'user' | 'admin';

/** An API key (`ream_<id>_<secret>`): only `hash`, sha256 of the secret in hex, is stored. */
export interface ApiKeyRecord {
  id: string;
  tenantId: string;
  name: string;
  role: ApiKeyRole;
  hash: string;
  createdAt: number;
  revokedAt: number | null;
}

export type NewApiKey = Pick<ApiKeyRecord, 'id' | 'tenantId' | 'name' | 'role' | 'hash'>;

export type WorkerState = 'running' | 'draining' | 'paused';

/** A worker process's heartbeat, for `GET /v1/workers`: written by the worker, replaced each beat. */
export interface WorkerRecord {
  id: string;
  host: string;
  pid: number;
  /** Epoch ms. */
  startedAt: number;
  /** Epoch ms of the last heartbeat. */
  lastSeenAt: number;
  /** Tasks it runs at once at most. */
  concurrency: number;
  /** Tasks it runs now. */
  inFlight: number;
  tasksDone: number;
  tasksFailed: number;
  /** `draining`: finishing what it holds, taking nothing new; `paused`: holding off intake (resources). */
  state: WorkerState;
}

/** What became of a finished tus upload: the stored document, or why it was refused. */
export interface UploadRecord {
  /** The tus upload id. */
  id: string;
  tenantId: string;
  status: 'stored' | 'failed';
  /** The name the client gave in `Upload-Metadata` (display only). */
  name: string;
  size: number;
  /** Epoch ms. */
  createdAt: number;
  documentId?: string;
  sha256?: string;
  mediaType?: string;
  /** Why it was refused (the HTTP problem, as JSON). */
  error?: JsonValue;
}

/**
 * The store port: the records of record (DESIGN.md §5). Every method is tenant-agnostic except
 * where a tenant is named: the caller scopes by tenant (the HTTP layer checks ownership).
 * test/conformance/store.ts is the contract every adapter passes.
 */
export interface Store {
  readonly name: string;

  /**
   * Creating a job whose `key` the tenant used already (or whose id exists) returns the existing
   * job instead: idempotent, and race-free where a findJobByKey-then-create is not.
   */
  createJob(job: NewJob, now: number): Promise<JobRecord>;
  getJob(id: string): Promise<JobRecord | undefined>;
  findJobByKey(tenantId: string, key: string): Promise<JobRecord | undefined>;
  updateJob(id: string, patch: JobPatch): Promise<JobRecord>;
  listJobs(query: ListJobsQuery): Promise<Page<JobRecord>>;
  /** Jobs in `queued` or `running`: what a restarted process must see through. */
  listUnfinishedJobs(): Promise<JobRecord[]>;
  /** Ended jobs (any tenant) whose `finishedAt` is at or after `since` (epoch ms): recent ends a restart re-announces. */
  listJobsFinishedSince(since: number): Promise<JobRecord[]>;
  /**
   * Removes the job and everything recorded for it: its job documents, chunk results, document
   * results and events. Documents (and their blobs) stay: other jobs may use the same content.
   * `false` when there was no such job.
   */
  deleteJob(id: string): Promise<boolean>;

  /** Inserts, or returns the existing record for (tenantId, sha256) — content is stored once. */
  putDocument(doc: Omit<DocumentRecord, 'createdAt'>, now: number): Promise<DocumentRecord>;
  getDocument(id: string): Promise<DocumentRecord | undefined>;

  /** Adds documents to a job; a (jobId, documentId) pair that exists already is left as it is. */
  addJobDocuments(docs: readonly NewJobDocument[]): Promise<void>;
  getJobDocument(jobId: string, documentId: string): Promise<JobDocumentRecord | undefined>;
  updateJobDocument(jobId: string, documentId: string, patch: JobDocumentPatch): Promise<JobDocumentRecord>;
  /** In `ordinal` order. */
  listJobDocuments(jobId: string): Promise<JobDocumentRecord[]>;

  putChunkResult(result: ChunkResultRecord): Promise<void>;
  /** In chunk `index` order. */
  listChunkResults(jobId: string, documentId: string): Promise<ChunkResultRecord[]>;

  putDocumentResult(result: DocumentResultRecord): Promise<void>;
  getDocumentResult(jobId: string, documentId: string): Promise<DocumentResultRecord | undefined>;

  jobCounts(jobId: string): Promise<JobCounts>;

  /**
   * Assigns the next `seq` of the event's job atomically (gapless, from 1) and stores it.
   * An unknown job is `not_found`.
   */
  appendEvent(event: NewEvent): Promise<ReamEvent>;
  /** Events with `seq > afterSeq`, in order. */
  listEvents(jobId: string, afterSeq: number, limit?: number): Promise<ReamEvent[]>;

  /** Stores a new API key (its hash only). An id or hash that exists already is a conflict (`validation_failed`). */
  createApiKey(key: NewApiKey, now: number): Promise<ApiKeyRecord>;
  /** The key with this secret hash, revoked or not (the caller checks `revokedAt`). */
  findApiKeyByHash(hash: string): Promise<ApiKeyRecord | undefined>;
  /** Oldest first; all tenants when `tenantId` is omitted. */
  listApiKeys(tenantId?: string): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked (the first revocation time stays); an unknown id is `not_found`. */
  revokeApiKey(id: string, now: number): Promise<ApiKeyRecord>;

  /** Inserts or replaces the worker's record (by id). */
  putWorker(worker: WorkerRecord): Promise<void>;
  /** Workers heard from at or after `seenSince` (epoch ms), oldest start first. */
  listWorkers(seenSince: number): Promise<WorkerRecord[]>;
  /** Removes the worker's record (a clean shutdown); an unknown id is not an error. */
  removeWorker(id: string): Promise<void>;

  /** Jobs per status across every tenant (for metrics): every status present, 0 when none. */
  jobStatusCounts(): Promise<Record<JobStatus, number>>;

  /** Inserts or replaces the upload's record (by id). */
  putUpload(record: UploadRecord): Promise<void>;
  getUpload(id: string): Promise<UploadRecord | undefined>;
  /** `false` when there was no such record. */
  deleteUpload(id: string): Promise<boolean>;
  /** Drops records of refused uploads created before `before` (epoch ms); returns how many. */
  deleteFailedUploadsBefore(before: number): Promise<number>;

  close(): Promise<void>;
}
