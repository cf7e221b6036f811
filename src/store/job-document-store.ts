import type { ErrorInfo } from '../errors.ts';
import type { JsonValue } from '../json.ts';

/** `partially_succeeded`: the document was read, but some of its pages failed (see its result). */
export type DocumentStatus = 'queued' | 'running' | 'succeeded' | 'partially_succeeded' | 'failed' | 'cancelled';
export const TERMINAL_DOCUMENT_STATUSES: readonly DocumentStatus[] = ['succeeded', 'partially_succeeded', 'failed', 'cancelled'];
export const UNFINISHED_DOCUMENT_STATUSES: readonly DocumentStatus[] = ['queued', 'running'];
export type ChunkStatus = 'succeeded' | 'failed';

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
  /**
   * The document of the same job this one was taken out of (an e-mail's attachment); absent for
   * the documents the user gave.
   */
  parentId?: string;
}

export type NewJobDocument = Pick<JobDocumentRecord, 'jobId' | 'documentId' | 'ordinal' | 'source' | 'parentId'>;
export type JobDocumentPatch = Partial<
  Pick<JobDocumentRecord, 'status' | 'pagesTotal' | 'chunksTotal' | 'info' | 'error' | 'startedAt' | 'finishedAt'>
>;

/**
 * When a job document's update applies: `ifStatusIn`, only while its status is one of these (one
 * conditional update, so of two racers one wins). Otherwise the row is answered unchanged.
 */
export interface JobDocumentCondition {
  ifStatusIn?: readonly DocumentStatus[];
}

/**
 * One page of a job's documents: those after `after` in (`ordinal`, `documentId`) order, at most
 * `limit` of them. `after.documentId` absent: after every document of that ordinal. Two racing
 * attaches may give documents the same ordinal, hence the id as tie-breaker.
 */
export interface JobDocumentPageRequest {
  after?: { ordinal: number; documentId?: string };
  /** At most this many rows; no limit when absent. */
  limit?: number;
  /** Only the documents taken out of this one (its attachments), read by an index. */
  parentId?: string;
  /** Only the documents in one of these statuses (a job's failed ones among thousands); empty: any. */
  statuses?: readonly DocumentStatus[];
}

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
  /**
   * An object output's `body`, when it is a text (a packed chunk's rows as JSON text), is stored
   * verbatim beside the rest: never escaped into the output's JSON, and never read when not asked for.
   */
  output: JsonValue | null;
  error: ErrorInfo | null;
  durationMs: number;
}

/** A checkpoint without its output: what a planner needs to know of a chunk. */
export type ChunkStateRecord = Pick<ChunkResultRecord, 'index' | 'from' | 'to' | 'status'>;

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
  /** Documents not ended whose page count is not known yet (not inspected): `pagesTotal` still grows by theirs. */
  documentsUncounted: number;
  /** Pages in chunks that have a result (succeeded or failed), and pages read so far in chunks that have none yet ({@link JobDocumentStore.putChunkProgress}). */
  pagesDone: number;
  chunksTotal: number;
  chunksSucceeded: number;
  chunksFailed: number;
}

/**
 * A job's documents and what working on them produced: per-document state, chunk checkpoints
 * (what a retried task skips) and document results. Rows go with their job (`deleteJob`).
 * Contract: test/conformance/store-job-documents.ts.
 */
/** A report file's blob as its job records it. */
export interface ArtifactBlob {
  sha256: string;
  size: number;
}

/** A report file as its document's result names it (unique in its document). */
export interface ReportFileInput {
  name: string;
  row: number;
  sha256: string;
  size: number;
  mediaType: string;
}

/** A job's report file as recorded: `seq` orders the job's files, `name` is unique in the job. */
export interface ReportFileRecord extends ReportFileInput {
  seq: number;
  documentId: string;
}

/** Which of a job's report files to list: of one document or row, after a `seq`, at most `limit`. */
export interface ReportFileQuery {
  documentId?: string;
  row?: number;
  afterSeq?: number;
  limit?: number;
}

export interface JobDocumentStore {
  /**
   * Records the report files of a document that ended, replacing those it had (a retry): each
   * gets the job's next `seq` and a name unique in the job (compared without case) — its own, or
   * with `-2`, `-3`, … when another document's file holds that base (its `.html` and `.pdf` alike).
   */
  putJobReportFiles(jobId: string, documentId: string, files: readonly ReportFileInput[]): Promise<void>;
  /** The job's report files in `seq` order (see {@link ReportFileQuery}). */
  listJobReportFiles(jobId: string, query?: ReportFileQuery): Promise<ReportFileRecord[]>;
  /** One of the job's report files by its name. */
  getJobReportFile(jobId: string, name: string): Promise<ReportFileRecord | undefined>;
  /**
   * Records that the job's results name these blobs as files (its reports), with their sizes:
   * they count toward the tenant's stored bytes until the job goes. Idempotent. `releasing`: a
   * storage reservation (TenantStore.reserveStorage) for these bytes, released in the same transaction.
   */
  putJobArtifacts(jobId: string, artifacts: readonly ArtifactBlob[], releasing?: string): Promise<void>;
  /** The blobs {@link putJobArtifacts} recorded for the job. */
  jobArtifactBlobs(jobId: string): Promise<string[]>;
  /** Whether a job of the tenant records the blob as a report file: its bytes count toward the tenant's stored bytes already. */
  tenantHasArtifact(tenantId: string, sha256: string): Promise<boolean>;
  /** Whether any job's results (but a job's under deletion) or any live document still name the blob. */
  blobInUse(sha256: string): Promise<boolean>;
  /**
   * Adds documents to a job, all or none. Idempotent: a (jobId, documentId) pair that exists
   * already is left as it is. An unknown job or document is `not_found`.
   */
  addJobDocuments(docs: readonly NewJobDocument[]): Promise<void>;
  /** `undefined` when the document is not in the job. */
  getJobDocument(jobId: string, documentId: string): Promise<JobDocumentRecord | undefined>;
  /** Sets the fields present in `patch` (`null` clears) and returns the row as stored; an unknown pair is `not_found`. */
  updateJobDocument(jobId: string, documentId: string, patch: JobDocumentPatch, condition?: JobDocumentCondition): Promise<JobDocumentRecord>;
  /**
   * The job's documents in `ordinal` order (the order results come back in), then by id; empty
   * for an unknown job. With `page`, only that page (read by the index, not sliced in memory).
   */
  listJobDocuments(jobId: string, page?: JobDocumentPageRequest): Promise<JobDocumentRecord[]>;
  /**
   * The ordinal after the job's last document's (0 for a job with none): where the next
   * attached document goes. Read by the index, so attaching one file at a time stays cheap
   * however many the job holds.
   */
  nextOrdinal(jobId: string): Promise<number>;
  /** Whether any of the job's documents is still queued or running; read by an index, not by counting them all. */
  hasUnfinishedDocuments(jobId: string): Promise<boolean>;
  /** The newest job of `tenantId` that holds the document (a search hit's way to its results); undefined when none. */
  latestJobOfDocument(documentId: string, tenantId: string): Promise<string | undefined>;

  /** Upsert by (jobId, documentId, index): a repeat replaces the checkpoint, so repeats are harmless. */
  putChunkResult(result: ChunkResultRecord): Promise<void>;
  /**
   * The document's checkpoints in chunk `index` order; empty when there are none. Holds every
   * chunk's output at once: for a document of many chunks (a table of a million rows) read them
   * one by one with {@link getChunkResult}.
   */
  listChunkResults(jobId: string, documentId: string): Promise<ChunkResultRecord[]>;
  /**
   * One chunk's checkpoint; `undefined` when it has none. `withoutBody`: an output's `body` text
   * (a packed chunk's rows, see {@link ChunkResultRecord.output}) is left out, for a reader that
   * needs only the rest (the merge of a long table). An output's `csv` text (a `rows` batch's CSV
   * records) is read only `withCsv`: by the table writer, which needs nothing else.
   */
  getChunkResult(jobId: string, documentId: string, index: number, options?: { withoutBody?: boolean; withCsv?: boolean }): Promise<ChunkResultRecord | undefined>;
  /**
   * How many pages of a running chunk are read so far: counted in `pagesDone` until the chunk has
   * a checkpoint, which then counts instead. Upsert keeping the larger count, so a retried chunk's
   * progress never runs backwards.
   */
  putChunkProgress(jobId: string, documentId: string, index: number, pagesRead: number): Promise<void>;
  /** One chunk's checkpoint without its output (is it done?); `undefined` when it has none. */
  getChunkState(jobId: string, documentId: string, index: number): Promise<ChunkStateRecord | undefined>;
  /** The document's checkpoints without their outputs, in `index` order. */
  listChunkStates(jobId: string, documentId: string): Promise<ChunkStateRecord[]>;

  /** Upsert by (jobId, documentId): the last write wins. */
  putDocumentResult(result: DocumentResultRecord): Promise<void>;
  /** The last result written; `undefined` before the first. */
  getDocumentResult(jobId: string, documentId: string): Promise<DocumentResultRecord | undefined>;

  /** Aggregates over the rows above, never bumped counters: all zero for an unknown job. */
  jobCounts(jobId: string): Promise<JobCounts>;
}
