// Types of the HTTP API's bodies, shared by the server that sends them and the client that reads
// them. Kept apart from both so the client imports nothing of the server or the runtime.
import type { Fields } from './analyzers/port.ts';
import type { Artifact } from './reports/artifacts.ts';
import type { ErrorInfo } from './errors.ts';
import type { PageFailure, PageText, PageWarning } from './formats/types.ts';
import type { Progress } from './events/types.ts';
import type { JsonObject } from './json.ts';
import type { DocumentStatus, JobStatus } from './store/port.ts';

/** Priorities by name, as the API and the CLI take them; a job stores the number. */
export const PRIORITIES = { low: 0, normal: 5, high: 10, critical: 20 } as const;
export type PriorityName = keyof typeof PRIORITIES;

export function isPriorityName(value: string): value is PriorityName {
  return Object.hasOwn(PRIORITIES, value);
}

/** The name of a stored priority, or the number itself when it has none (a library caller's own). */
export function priorityName(priority: number): PriorityName | number {
  const entry = Object.entries(PRIORITIES).find(([, value]) => value === priority);
  return entry ? (entry[0] as PriorityName) : priority;
}

/** One priority level of `GET /v1/queues` (admins): the queue's work at that priority. */
export interface QueueLevelView {
  /** Its name when it has one (`normal`), else the number. */
  priority: PriorityName | number;
  /** The number behind the name: higher runs first. */
  level: number;
  /** Tasks a worker could claim now. */
  queued: number;
  /** Tasks queued for later: retries waiting out their delay. */
  delayed: number;
  /** Tasks workers hold now. */
  running: number;
  /** Since when the level's longest-waiting claimable task has been due (ISO 8601); null when none is. */
  oldestQueuedAt: string | null;
  /** How long that is, in ms, when the server answered; null when none is. */
  oldestAgeMs: number | null;
}

/** What `POST /v1/documents/:id/inspect` answers: a table's sheets and header columns. */
export type { TableOutline as TableOutlineView } from './formats/types.ts';

/** What `GET /v1/jobs/:id` answers, and what a webhook carries as `job`. Times are ISO 8601 strings (or null). */
export interface JobView {
  id: string;
  /** The tenant the job belongs to (an admin's list may hold several). */
  tenantId: string;
  status: JobStatus;
  pipeline: string;
  options: JsonObject;
  priority: PriorityName | number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  /**
   * Why the job failed (its first failed document's code), or why one that ended
   * `partially_succeeded` was stopped short (`budget_exceeded`: its token budget spent); else null.
   */
  error: ErrorInfo | null;
  progress: Progress;
  counts: {
    documents: { total: number; succeeded: number; partiallySucceeded: number; failed: number; cancelled: number };
    chunks: { total: number; succeeded: number; failed: number };
  };
  /** Model tokens the job spent (LLM pipelines), per model; absent when it made no model call. */
  usage?: UsageView;
}

/** One document of a job as `GET /v1/jobs/:id/documents` lists it (queued ones included). Times are ISO 8601 strings (or null). */
export interface JobDocumentView {
  id: string;
  /** Position in the job's input. */
  ordinal: number;
  /** The name it was given (the uploaded file's name, a path given to the CLI). */
  name: string;
  status: DocumentStatus;
  /** Known once the document was inspected. */
  pagesTotal: number | null;
  chunksTotal: number | null;
  error: ErrorInfo | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** The document it was taken out of (an e-mail's attachment); absent for the files given. */
  parentId?: string;
}

/** A page of a job's files (`GET /v1/jobs/:id/artifacts`): `nextCursor` (null on the last page) asks for the next one. */
export interface ArtifactPage {
  items: Artifact[];
  nextCursor: string | null;
}

/** A page of a job's documents: `nextCursor` (null on the last page) asks for the next one. */
export interface JobDocumentPage {
  items: JobDocumentView[];
  nextCursor: string | null;
}

/** Tokens per model, with the sums, and a cost when the process has a price table for every model. */
export interface UsageView {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
  calls: number;
  cachedCalls: number;
  costUsd?: number;
  byModel: Array<{ model: string; promptTokens: number; completionTokens: number; calls: number; cachedCalls: number }>;
}

/** A stored document as `POST /v1/documents` and `GET /v1/documents/:id` answer it. */
export interface DocumentView {
  id: string;
  sha256: string;
  size: number;
  name: string;
  mediaType: string;
  createdAt: number;
}

/** One page (a table's row) of a document's result, as its chunk's checkpoint holds it. */
export interface DocumentPageResult {
  /** 1-based. */
  page: number;
  /** What was read; absent when the page could not be read. */
  read?: PageText;
  /** The fields found on this page. */
  fields: Fields;
  /** Why the page failed (could not be read, or its analysis failed); its `read` text may still be there. */
  failure?: PageFailure;
  warning?: PageWarning;
}

/**
 * A window of a document's rows (`GET /v1/jobs/:id/documents/:documentId/pages?offset=…`),
 * optionally filtered and sorted on the server. Columns are named `row`, `error`,
 * `cells.<input column>` or `fields.<field name>`.
 */
export interface RowViewQuery {
  /** Rows of the view to skip (0-based). Default 0. */
  offset?: number;
  /** Rows to answer, 1–1000. Default: all of them without a window, else 200. */
  limit?: number;
  /** The column to sort by; ties keep their row order, empty cells come last. */
  sort?: string;
  /** Default `asc`. */
  order?: 'asc' | 'desc';
  /** Keeps the rows whose `filterBy` column (any column when absent) contains this text, ignoring case. */
  filter?: string;
  filterBy?: string;
}

/** One window of rows and how many rows the whole (filtered) view has. */
export interface RowWindow {
  /** Rows in the view: every row, or those the filter kept. */
  total: number;
  offset: number;
  rows: DocumentPageResult[];
}

/** One file a job made (a rendered report), as `GET /v1/jobs/:id/artifacts` lists it. */
export type { Artifact as ArtifactView } from './reports/artifacts.ts';

/** A tenant's credits and quotas as the API shows them (`GET /v1/credits`, `/v1/tenants/:tenant`). */
export interface TenantAccountView {
  tenantId: string;
  /** Whole credits; below 0 when jobs used more than they reserved. */
  balance: number;
  quotas: { pagesPerDay?: number; concurrentJobs?: number; storageBytes?: number };
  usage: { pagesToday: number; unfinishedJobs: number; storageBytes: number };
  /** `GET /v1/credits` only, when the server prices jobs. */
  prices?: Record<string, number>;
}

/** One credit ledger entry as the API shows it. */
export interface CreditEntryView {
  id: string;
  tenantId: string;
  kind: 'grant' | 'reserve' | 'finalize' | 'refund';
  amount: number;
  key: string;
  jobId: string | null;
  reason: string | null;
  /** ISO 8601. */
  at: string;
  details?: Record<string, unknown>;
}

/** A task a worker runs or ran, as `GET /v1/workers` lists it. */
export interface WorkerTaskView {
  taskId: string;
  kind: string;
  jobId: string;
  documentId?: string;
  chunk?: { index: number; from: number; to: number };
  attempt: number;
  /** Epoch ms. */
  startedAt: number;
  ageMs?: number;
  outcome?: string;
  durationMs?: number;
  errorCode?: string;
}

/** A worker process as `GET /v1/workers` lists it. Times are ISO 8601 strings. */
export interface WorkerView {
  id: string;
  host: string;
  pid: number;
  state: 'running' | 'draining' | 'paused';
  concurrency: number;
  inFlight: number;
  tasksDone: number;
  tasksFailed: number;
  startedAt: string;
  lastSeenAt: string;
  cpuPercent?: number;
  rssMb?: number;
  heapUsedMb?: number;
  loadPerCore?: number;
  pausedReason?: string;
  /** When the worker stops claiming on its own (`--max-rss`, `--max-lag`, `--max-cpu`). */
  intakeLimits?: { maxRssMb?: number; maxEventLoopLagMs?: number; maxCpuPercent?: number };
  command?: 'pause' | 'resume' | 'drain';
  running: WorkerTaskView[];
  recent: WorkerTaskView[];
}

/** Formats of `GET /v1/jobs/:id/download` (and of one document's): full results, or the flat table. */
export const DOWNLOAD_FORMATS = ['json', 'ndjson', 'csv', 'xlsx'] as const;
export type DownloadFormat = (typeof DOWNLOAD_FORMATS)[number];

/** CSV downloads: `escape` (default) prefixes text cells a spreadsheet would run as a formula with `'`; `keep` writes them as they are. */
export const CSV_FORMULA_MODES = ['escape', 'keep'] as const;
export type CsvFormulaMode = (typeof CSV_FORMULA_MODES)[number];

/** Recent failures of one error code, as `GET /v1/errors` groups them. Times are ISO 8601. */
export interface ErrorGroupView {
  code: string;
  /** Failed chunks and documents with this code in the window. */
  count: number;
  firstAt: string;
  lastAt: string;
  /** The most recent of them. */
  sample: {
    tenantId: string;
    jobId: string;
    documentId: string | null;
    /** The document's file name, when it is still stored. */
    documentName: string | null;
    /** 1-based pages of the chunk that failed; null when the whole document failed. */
    pages: { first: number; last: number } | null;
    message: string;
    at: string;
  };
}

/** A pipeline as `GET /v1/pipelines` lists it: its name and the JSON Schema of its options. */
export interface PipelineView {
  name: string;
  optionsSchema: JsonObject;
}

/** What `POST /v1/jobs/estimate` answers: what a job would reserve at submit, and the balance it comes out of. */
export interface JobEstimateView {
  /** Pages reserved: the counted pages, one per document not counted (or asked by count). */
  pages: number;
  /** Credits reserved (0 when the server does not price jobs); the job is charged what it uses when it ends. */
  credits: number;
  /** Whether the server prices jobs (a price table is set). */
  priced: boolean;
  /** The tenant's credit balance now. */
  balance: number;
  /** Asked with `documentIds`: the pages of the documents that were counted (PDF pages, images' frames, a table's rows or sheets). */
  pagesCounted?: number;
  /** Asked with `documentIds` for a `rows` job: the tables' data rows (of `sheet` when it is set). */
  rows?: number;
  /** Asked with `documentIds`: how many were counted. */
  documentsCounted?: number;
  /** Asked with `documentIds`: the documents not counted (unreadable, or past the time budget), each reserved as one page. */
  documentsNotCounted?: Array<{ documentId: string; code: string; message: string }>;
}

/** What `GET /v1/auth` answers: how to sign in here. Public, and nothing in it is a secret. */
export interface SignInView {
  /** false when the server runs without auth (every request is the local tenant). */
  required: boolean;
  /** `api_key`: a `ream_…` key from `ream keys create`; `jwt`: a bearer token from `jwt.issuer`. */
  methods: Array<'api_key' | 'jwt'>;
  /** Present when JWTs are accepted: the issuer and audience a token must name, when the server checks them. */
  jwt?: { issuer?: string; audience?: string };
}

/**
 * The media type families `GET /v1/search?type=` takes besides an exact media type (one with a
 * `/`): `pdf`, `image` (any `image/*`), `sheet` (XLSX, CSV), `word` (DOCX), `html`, `text`
 * (plain text, Markdown), `email` (`message/rfc822`).
 */
export const SEARCH_TYPE_FAMILIES = ['pdf', 'image', 'sheet', 'word', 'html', 'text', 'email'] as const;
export type SearchTypeFamily = (typeof SEARCH_TYPE_FAMILIES)[number];
