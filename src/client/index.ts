// Over 300 lines on purpose: ReamClient is the SDK's one class, one short method per API route;
// uploads (upload.ts), SSE parsing (sse.ts), files (files.ts) and errors (errors.ts) are apart.
/**
 * `ream/client`: an SDK for ream's HTTP API (DESIGN.md §8) over the global `fetch`, and
 * tus-js-client for uploads. Submits files as multipart (fields first, files streamed from disk),
 * uploads big files over tus (chunked, resumable), follows jobs over Server-Sent Events
 * (resuming with `Last-Event-ID` when a connection drops) and turns `application/problem+json`
 * answers into {@link ReamHttpError}s carrying the stable `code`.
 */
import { ReamError } from '../errors.ts';
import { TERMINAL_EVENT_TYPES as SHARED_TERMINAL_EVENT_TYPES, type ReamEvent } from '../events/types.ts';
import type { JsonObject } from '../json.ts';
import type { DocumentOutput } from '../pipeline/types.ts';
import type { CsvFormulaMode, DocumentPageResult, DownloadFormat, ErrorGroupView, JobEstimateView, PipelineView, RowViewQuery, RowWindow, TableOutlineView } from '../api-types.ts';
import { TERMINAL_JOB_STATUSES, type JobStatus, type MetricsSample } from '../store/port.ts';
import type { ArtifactPage, ArtifactView, CreditEntryView, DocumentView, JobDocumentPage, JobDocumentView, JobView, PriorityName, QueueLevelView, SignInView, TenantAccountView, UsageView, WorkerView } from '../api-types.ts';
import type { SearchHit } from '../search/port.ts';
import { errorFromProblem, errorFromResponse, ReamHttpError, unreachable, type ProblemBody } from './errors.ts';
import { fileBlob, type FileBlob, type SubmitFile } from './files.ts';
import { sleep } from './sleep.ts';
import { parseSse, SseParser } from './sse.ts';
import { tusUpload, type UploadOptions, type UploadSource } from './upload.ts';
import { ReamUrlStorage } from './url-storage.ts';

export type { ReamEvent, EventType, Progress } from '../events/types.ts';
export type { DocumentOutput } from '../pipeline/types.ts';
export type { CsvFormulaMode, DocumentPageResult, DownloadFormat, ErrorGroupView, JobEstimateView, PipelineView, RowViewQuery, RowWindow, TableOutlineView } from '../api-types.ts';
export { CSV_FORMULA_MODES, DOWNLOAD_FORMATS, SEARCH_TYPE_FAMILIES, type SearchTypeFamily } from '../api-types.ts';
export type { JsonObject, JsonValue } from '../json.ts';
export type { JobStatus, MetricsSample } from '../store/port.ts';
export type { ArtifactPage, ArtifactView, CreditEntryView, DocumentView, JobDocumentPage, JobDocumentView, JobView, PriorityName, QueueLevelView, SignInView, TenantAccountView, UsageView, WorkerTaskView, WorkerView } from '../api-types.ts';
export type { SearchHit } from '../search/port.ts';
export { parseSse, SseParser, type SseMessage } from './sse.ts';
export { errorFromResponse, ReamHttpError, type ProblemBody } from './errors.ts';
export type { SubmitFile } from './files.ts';
export type { UploadOptions, UploadSource } from './upload.ts';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

type RequestOptions = Omit<RequestInit, 'headers'> & { headers?: Record<string, string> };

export interface ReamClientOptions {
  /** e.g. `http://127.0.0.1:8080` (a path prefix is kept). */
  baseUrl: string;
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** Defaults to the global `fetch`. */
  fetch?: FetchLike;
  /** Wait before reconnecting a dropped event stream when the server sent no `retry:`. Default 1000 ms. */
  reconnectDelayMs?: number;
  /** Consecutive failed reconnects (no event received in between) before `events` gives up. Default 10. */
  maxReconnects?: number;
  /**
   * Folder where unfinished uploads are remembered (a small JSON file), so an upload cut short in
   * one process resumes in the next. Default: remembered in memory, by this client only.
   */
  uploadResumeDir?: string;
  /**
   * How many times a request that changes nothing (GET, HEAD) is sent again when the server could
   * not be reached, or answered 429, 502, 503 or 504: after the answer's `Retry-After` (none over
   * 30 s is waited for), else after 250 ms, 500 ms, 1 s, …. Default 2; 0 sends each once.
   */
  retries?: number;
}

/** Statuses an idempotent request is sent again after: rate limited, or a server (or its proxy) not able to answer now. */
const RETRIED_STATUSES = new Set([429, 502, 503, 504]);
/** The longest `Retry-After` a retry waits for; a longer one is the caller's to wait. */
const MAX_RETRY_WAIT_MS = 30_000;
const RETRY_BASE_MS = 250;

export interface SubmitRequest {
  /** Files to send (may be empty when `documents` or `uploads` name something). */
  files?: readonly SubmitFile[];
  /** Ids of documents stored already (`storeDocuments`, or an upload's `documentId`). */
  documents?: readonly string[];
  /** Ids of finished uploads (`upload()`'s `uploadId`). */
  uploads?: readonly string[];
  /**
   * Files on disk larger than this many bytes are uploaded over tus first (chunked; an interrupted
   * upload resumes), the others stored in one multipart request; the job then names them all.
   * Default: none, every file goes in the job's own multipart request.
   */
  uploadThresholdBytes?: number;
  /** Progress of each tus upload: the file, bytes sent, total bytes. */
  onUploadProgress?: (file: string, sent: number, total: number | null) => void;
  pipeline?: string;
  options?: JsonObject;
  priority?: PriorityName;
  /** Called when the job ends (`POST` of its view, signed with `secret` when given); refused at submit when the address is not allowed. */
  webhook?: { url: string; secret?: string };
  /** A repeat with the same key answers the first job and uploads nothing new. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface ListJobsRequest {
  status?: JobStatus;
  /** Only jobs whose id starts with this text or whose pipeline name holds it (letters A-Z in either case). */
  q?: string;
  /** `-created` (the server's default): newest first; `created`: oldest first. Keep it with the cursor it gave. */
  sort?: '-created' | 'created';
  /** Admins: another tenant's jobs, or `*` for every tenant's (default: the caller's own). */
  tenant?: string;
  limit?: number;
  cursor?: string;
  /** Only the job made with this idempotency key (none or one). */
  idempotencyKey?: string;
  /** Count the list's jobs too (`JobPage.total`). */
  total?: boolean;
  signal?: AbortSignal;
}

/** A finished upload, as the server stored it. */
export interface StoredUpload {
  uploadId: string;
  documentId: string;
  sha256: string;
  size: number;
  name: string;
  mediaType: string;
}

/** What `GET /v1/uploads/:id` answers for a finished upload. */
interface UploadRecordBody {
  id: string;
  status: 'stored' | 'failed' | 'uploading';
  documentId?: string;
  sha256?: string;
  size: number;
  name: string;
  mediaType?: string;
  error?: ProblemBody;
}

/** Filters of `ReamClient.search` (see docs/search.md); they combine: one job's result for a document must satisfy them all. */
export interface SearchOptions {
  /** Only documents this job indexed. */
  jobId?: string;
  /** An exact media type (`application/pdf`) or a family (`SEARCH_TYPE_FAMILIES`: `pdf`, `image`, `sheet`, …). */
  type?: string;
  /** Indexed at or after: a Date, epoch ms, or an ISO string (a date alone is that day from 00:00 UTC). */
  from?: Date | number | string;
  /** Indexed at or before: a Date, epoch ms, or an ISO string (a date alone is that whole UTC day). */
  to?: Date | number | string;
  /** Extracted field values the document must hold (name and value case-insensitive, the whole value). */
  fields?: Readonly<Record<string, string>> | ReadonlyArray<readonly [string, string]>;
  /** Hits to return, 1–100 (default 20). */
  limit?: number;
  /** `nextCursor` of the previous page (`searchPage`): the hits after it. */
  cursor?: string;
  signal?: AbortSignal;
}

function searchTime(at: Date | number | string): string {
  return at instanceof Date ? String(at.getTime()) : String(at);
}

/** The query string of a search: `q`, then each filter as the API names it. */
export function searchQuery(q: string, options: SearchOptions = {}): URLSearchParams {
  const query = new URLSearchParams({ q });
  if (options.limit !== undefined) query.set('limit', String(options.limit));
  if (options.cursor !== undefined) query.set('cursor', options.cursor);
  if (options.jobId !== undefined) query.set('job', options.jobId);
  if (options.type !== undefined) query.set('type', options.type);
  if (options.from !== undefined) query.set('from', searchTime(options.from));
  if (options.to !== undefined) query.set('to', searchTime(options.to));
  const fields: ReadonlyArray<readonly [string, string]> = Array.isArray(options.fields) ? options.fields : Object.entries(options.fields ?? {});
  for (const [name, value] of fields) query.append('field', `${name}:${value}`);
  return query;
}

/** Which files of a job {@link ReamClient.artifactPage} lists. */
export interface ArtifactPageOptions {
  documentId?: string;
  /** A data row (0: reports of a whole document). */
  row?: number;
  /** Page size, 1 to 1,000 (default 100). */
  limit?: number;
  cursor?: string;
  signal?: AbortSignal;
}

/** A search hit with its document's file name. */
export interface NamedSearchHit extends SearchHit {
  name: string;
  /** The newest job of the tenant holding the document; null when none. */
  jobId: string | null;
}

/** One page of search hits; `nextCursor` (as `cursor`) asks for the next, null when there is none. */
export interface SearchPage {
  items: NamedSearchHit[];
  nextCursor: string | null;
}

export interface JobPage {
  items: JobView[];
  nextCursor: string | null;
  /**
   * With `total: true`: how many jobs the list holds (every page of it). Counting stops at 10,000:
   * past that, `count` is 10,000 and `exact` false.
   */
  total?: { count: number; exact: boolean };
}

/** A results file as the server sends it (`download`). */
export interface ResultsDownload {
  /** The file name the server suggests (`job-<id>.csv`, `<document>.xlsx`, …). */
  name: string;
  mediaType: string;
  body: ReadableStream<Uint8Array>;
}

/** The name in `Content-Disposition`: its `filename*=UTF-8''…`, else its quoted `filename`, else `fallback`. */
function attachmentName(disposition: string | null, fallback: string): string {
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition ?? '')?.[1];
  if (encoded !== undefined) {
    try {
      return decodeURIComponent(encoded);
    } catch {
      // a broken encoding: the plain name, if any, is next best
    }
  }
  const quoted = /filename="((?:[^"\\]|\\.)*)"/i.exec(disposition ?? '')?.[1];
  return quoted === undefined ? fallback : quoted.replace(/\\(.)/g, '$1');
}

export interface EventsOptions {
  /** Replay only events with a greater `seq` (default 0: every event of the job). */
  afterSeq?: number;
  signal?: AbortSignal;
  /**
   * Told when the stream is connected (`true`: the server answered) and as soon as it drops or
   * cannot connect (`false`, with why), before each reconnect: a view can say at once that it is
   * no longer live, rather than when the reconnects run out.
   */
  onConnection?: (connected: boolean, failure?: Error) => void;
}

export interface WaitOptions {
  /** Called with each event's progress (pages and documents), in `seq` order. */
  onProgress?: (progress: ReamEvent['progress'], event: ReamEvent) => void;
  signal?: AbortSignal;
}

export const TERMINAL_EVENT_TYPES: ReadonlySet<string> = SHARED_TERMINAL_EVENT_TYPES;
export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>(TERMINAL_JOB_STATUSES);

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}

async function* lines(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf('\n')) !== -1) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line.trim() !== '') yield line;
    }
  }
  buffer += decoder.decode();
  if (buffer.trim() !== '') yield buffer;
}

export class ReamClient {
  readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly fetchImpl: FetchLike;
  private readonly reconnectDelayMs: number;
  private readonly maxReconnects: number;
  private readonly uploadResumeDir: string | undefined;
  private urlStorage: ReamUrlStorage | undefined;
  private readonly retries: number;

  constructor(options: ReamClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.reconnectDelayMs = options.reconnectDelayMs ?? 1000;
    this.maxReconnects = options.maxReconnects ?? 10;
    this.uploadResumeDir = options.uploadResumeDir;
    this.retries = options.retries ?? 2;
    if (!Number.isSafeInteger(this.retries) || this.retries < 0) throw ReamError.nonRetryable('validation_failed', 'retries must be an integer, 0 or more');
  }

  /** Sends a request; a non-2xx answer throws {@link ReamHttpError}, a network failure `io_error`. */
  private authHeaders(): Record<string, string> {
    return this.apiKey === undefined ? {} : { authorization: `Bearer ${this.apiKey}` };
  }

  /**
   * {@link send}, again for a GET or HEAD that could not reach the server or was answered 429,
   * 502, 503 or 504 (see `retries`); `retry: false` sends it once (the event stream reconnects by itself).
   */
  private async request(path: string, init: RequestOptions & { retry?: boolean } = {}): Promise<Response> {
    const { retry, ...rest } = init;
    const method = (rest.method ?? 'GET').toUpperCase();
    const retries = retry === false || (method !== 'GET' && method !== 'HEAD') ? 0 : this.retries;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.send(path, rest);
      } catch (error) {
        if (attempt >= retries || rest.signal?.aborted === true || !(error instanceof ReamError)) throw error;
        const status = error instanceof ReamHttpError ? error.httpStatus : undefined;
        if (status === undefined ? error.code !== 'io_error' : !RETRIED_STATUSES.has(status)) throw error;
        const wait = Math.max(error.retryAfterMs ?? 0, RETRY_BASE_MS * 2 ** attempt);
        if (wait > MAX_RETRY_WAIT_MS) throw error;
        await sleep(wait, rest.signal ?? undefined);
      }
    }
  }

  private async send(path: string, init: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers, ...this.authHeaders() };
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, { ...init, headers });
    } catch (error) {
      // An abort rejects with the signal's reason, whatever it is (`abort('bye')` rejects with
      // 'bye', which is no AbortError): the caller's own stop, never a retryable io_error.
      if (init.signal?.aborted) throw init.signal.reason;
      if (isAbort(error)) throw error;
      throw unreachable(this.baseUrl, error);
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  }

  private async json<T>(path: string, init: RequestOptions = {}): Promise<T> {
    const response = await this.request(path, { ...init, headers: { accept: 'application/json', ...init.headers } });
    return (await response.json()) as T;
  }

  private jobPath(id: string, rest = ''): string {
    return `/v1/jobs/${encodeURIComponent(id)}${rest}`;
  }

  /**
   * Submits a job. Files only: `POST /v1/jobs` as multipart, `pipeline`, `options`, `priority`
   * first, then one `file` part per file (paths are streamed from disk, never buffered). With
   * `documents` / `uploads`, or files over `uploadThresholdBytes`: the files are stored first (big
   * ones over tus, the others in one `POST /v1/documents`) and a JSON job names them in input order.
   */
  async submit(request: SubmitRequest): Promise<JobView> {
    if (request.files !== undefined && !Array.isArray(request.files)) throw ReamError.nonRetryable('validation_failed', 'files must be an array (of paths, or { name, data })');
    const key = request.idempotencyKey;
    // As the server reads the header: refused here rather than failing as a header fetch cannot send.
    if (key !== undefined && !/^[\x20-\x7e]{1,255}$/.test(key)) throw ReamError.nonRetryable('validation_failed', 'idempotencyKey must be 1 to 255 printable ASCII characters');
    const files = await Promise.all((request.files ?? []).map(fileBlob));
    const named = (request.documents?.length ?? 0) + (request.uploads?.length ?? 0);
    if (files.length === 0 && named === 0) throw ReamError.nonRetryable('validation_failed', 'submit needs at least one file, document or upload');
    const threshold = request.uploadThresholdBytes ?? Infinity;
    const headers: Record<string, string> = request.idempotencyKey === undefined ? {} : { 'idempotency-key': request.idempotencyKey };
    const signal = request.signal ? { signal: request.signal } : {};
    const fieldsForm = (): FormData => {
      const form = new FormData();
      if (request.pipeline !== undefined) form.append('pipeline', request.pipeline);
      if (request.options !== undefined) form.append('options', JSON.stringify(request.options));
      if (request.priority !== undefined) form.append('priority', request.priority);
      if (request.webhook !== undefined) form.append('webhook', JSON.stringify(request.webhook));
      return form;
    };
    if (request.idempotencyKey !== undefined && files.length > 0) {
      // A repeat sends no file again: the server answers it with the first job unread. The fields
      // alone go, so the server still refuses a key reused for another request.
      const { items } = await this.listJobs({ idempotencyKey: request.idempotencyKey, ...signal });
      if (items.length > 0) return this.json<JobView>('/v1/jobs', { method: 'POST', body: fieldsForm(), headers, ...signal });
    }
    if (named === 0 && files.every((file) => file.path === undefined || file.blob.size <= threshold)) {
      const form = fieldsForm();
      for (const file of files) form.append('file', file.blob, file.name);
      return this.json<JobView>('/v1/jobs', { method: 'POST', body: form, headers, ...signal });
    }
    const stored = await this.storeFiles(files, threshold, request);
    const body = {
      documents: [...stored, ...(request.documents ?? [])],
      ...(request.uploads?.length ? { uploads: request.uploads } : {}),
      ...(request.pipeline === undefined ? {} : { pipeline: request.pipeline }),
      ...(request.options === undefined ? {} : { options: request.options }),
      ...(request.priority === undefined ? {} : { priority: request.priority }),
      ...(request.webhook === undefined ? {} : { webhook: request.webhook }),
    };
    return this.json<JobView>('/v1/jobs', { method: 'POST', body: JSON.stringify(body), headers: { ...headers, 'content-type': 'application/json' }, ...signal });
  }

  /** Stores files as documents, in order: those on disk over `threshold` bytes over tus, the rest in one multipart request. */
  private async storeFiles(files: readonly FileBlob[], threshold: number, request: SubmitRequest): Promise<string[]> {
    const ids: string[] = new Array<string>(files.length);
    const small: number[] = [];
    for (const [i, file] of files.entries()) {
      if (file.path === undefined || file.blob.size <= threshold) {
        small.push(i);
        continue;
      }
      const path = file.path;
      const onProgress = request.onUploadProgress;
      const stored = await this.upload(path, {
        ...(request.signal ? { signal: request.signal } : {}),
        ...(onProgress ? { onProgress: (sent: number, total: number | null) => onProgress(path, sent, total) } : {}),
      });
      ids[i] = stored.documentId;
    }
    if (small.length > 0) {
      const docs = await this.storeDocuments(small.map((i) => files[i] as FileBlob), request.signal);
      small.forEach((i, k) => (ids[i] = docs[k]?.id ?? ''));
    }
    return ids;
  }

  /** `GET /v1/auth` (no credentials needed): whether the server needs them, which kinds, and the JWT issuer. */
  async signInInfo(): Promise<SignInView> {
    return this.json<SignInView>('/v1/auth');
  }

  /** `GET /v1/credits`: the caller's tenant's balance, quotas and usage (and the price table, when jobs are priced). */
  async credits(): Promise<TenantAccountView> {
    return this.json<TenantAccountView>('/v1/credits');
  }

  /** `GET /v1/tenants` (admin): every tenant with a balance, quotas or a job, read a page at a time. */
  async tenants(): Promise<TenantAccountView[]> {
    const all: TenantAccountView[] = [];
    for (let after: string | undefined = ''; after !== undefined;) {
      const page: { items: TenantAccountView[]; next?: string } = await this.json(`/v1/tenants?limit=1000${after === '' ? '' : `&after=${encodeURIComponent(after)}`}`);
      all.push(...page.items);
      after = page.next;
    }
    return all;
  }

  /** `GET /v1/tenants/:tenant` (admin). */
  async tenant(tenantId: string): Promise<TenantAccountView> {
    return this.json<TenantAccountView>(`/v1/tenants/${encodeURIComponent(tenantId)}`);
  }

  /** `POST /v1/tenants/:tenant/credits` (admin): grants (or, negative, takes back) credits; a repeated `key` grants nothing more. */
  async grantCredits(tenantId: string, grant: { amount: number; reason: string; key?: string }): Promise<{ entry: CreditEntryView; balance: number }> {
    return this.json<{ entry: CreditEntryView; balance: number }>(`/v1/tenants/${encodeURIComponent(tenantId)}/credits`, {
      method: 'POST', body: JSON.stringify(grant), headers: { 'content-type': 'application/json' },
    });
  }

  /** `PUT /v1/tenants/:tenant/quotas` (admin): replaces the tenant's quotas; absent or null is no limit. */
  async setQuotas(tenantId: string, quotas: { pagesPerDay?: number | null; concurrentJobs?: number | null; storageBytes?: number | null }): Promise<TenantAccountView> {
    return this.json<TenantAccountView>(`/v1/tenants/${encodeURIComponent(tenantId)}/quotas`, {
      method: 'PUT', body: JSON.stringify(quotas), headers: { 'content-type': 'application/json' },
    });
  }

  /** `GET /v1/tenants/:tenant/ledger` (admin): every ledger entry of the tenant, oldest first, read a page at a time. */
  async *ledger(tenantId: string): AsyncGenerator<CreditEntryView> {
    let after: string | undefined;
    for (;;) {
      const query = new URLSearchParams({ limit: '1000', ...(after === undefined ? {} : { after }) });
      const page = await this.json<{ items: CreditEntryView[]; next?: string }>(`/v1/tenants/${encodeURIComponent(tenantId)}/ledger?${query.toString()}`);
      yield* page.items;
      if (page.next === undefined) return;
      after = page.next;
    }
  }

  /** `GET /v1/usage`: model tokens (and cost) the caller's tenant has spent, per model; an admin may name a tenant. */
  async usage(options: { tenant?: string; signal?: AbortSignal } = {}): Promise<{ tenantId: string; usage: UsageView }> {
    const query = options.tenant === undefined ? '' : `?${new URLSearchParams({ tenant: options.tenant }).toString()}`;
    return this.json<{ tenantId: string; usage: UsageView }>(`/v1/usage${query}`, options.signal ? { signal: options.signal } : {});
  }

  /**
   * `GET /v1/search`: pages of the caller's indexed documents holding every word of `q`, best
   * first, narrowed by the filters. With a filter, `q` may be '': each matching document's first page, newest first.
   */
  async search(q: string, options: SearchOptions = {}): Promise<NamedSearchHit[]> {
    return (await this.searchPage(q, options)).items;
  }

  /** {@link search} with the cursor of the next page: pass it back as `cursor` for the hits after these (up to 10,000 in all). */
  async searchPage(q: string, options: SearchOptions = {}): Promise<SearchPage> {
    const page = await this.json<{ items: NamedSearchHit[]; nextCursor?: string | null }>(`/v1/search?${searchQuery(q, options).toString()}`, options.signal ? { signal: options.signal } : {});
    return { items: page.items, nextCursor: page.nextCursor ?? null };
  }

  /** `POST /v1/documents`: stores files (each checked by its first bytes) without a job; answers them in order. */
  async storeDocuments(files: ReadonlyArray<SubmitFile | FileBlob>, signal?: AbortSignal): Promise<DocumentView[]> {
    const form = new FormData();
    for (const file of files) {
      const { blob, name } = typeof file === 'object' && 'blob' in file ? file : await fileBlob(file);
      form.append('file', blob, name);
    }
    const { items } = await this.json<{ items: DocumentView[] }>('/v1/documents', { method: 'POST', body: form, ...(signal ? { signal } : {}) });
    return items;
  }

  /**
   * Uploads one file over tus (`/v1/uploads`) in chunks and answers the stored document. An upload
   * cut short (an abort, a lost connection, a crash with `uploadResumeDir`) resumes from the
   * server's offset when the same source is uploaded again. The server's refusals throw
   * {@link ReamHttpError} with its code (`checksum_mismatch`, `file_too_large`, `unsupported_type`, …).
   * Note: tus requests use Node's HTTP client, not the `fetch` option.
   */
  async upload(source: UploadSource, options: UploadOptions = {}): Promise<StoredUpload> {
    this.urlStorage ??= new ReamUrlStorage(this.uploadResumeDir);
    const id = await tusUpload(source, options, {
      endpoint: `${this.baseUrl}/v1/uploads`,
      baseUrl: this.baseUrl,
      headers: this.authHeaders(),
      urlStorage: this.urlStorage,
    });
    await this.urlStorage.idle();
    const record = await this.json<UploadRecordBody>(`/v1/uploads/${encodeURIComponent(id)}`, options.signal ? { signal: options.signal } : {});
    const { documentId, sha256, mediaType } = record;
    if (record.status !== 'stored' || documentId === undefined || sha256 === undefined || mediaType === undefined) {
      throw errorFromProblem(record.error?.status ?? 500, `upload ${id} is ${record.status}`, record.error);
    }
    return { uploadId: record.id, documentId, sha256, size: record.size, name: record.name, mediaType };
  }

  getJob(id: string, signal?: AbortSignal): Promise<JobView> {
    return this.json<JobView>(this.jobPath(id), signal ? { signal } : {});
  }

  listJobs(request: ListJobsRequest = {}): Promise<JobPage> {
    const query = new URLSearchParams();
    if (request.status !== undefined) query.set('status', request.status);
    if (request.q !== undefined && request.q !== '') query.set('q', request.q);
    if (request.sort !== undefined) query.set('sort', request.sort);
    if (request.limit !== undefined) query.set('limit', String(request.limit));
    if (request.cursor !== undefined) query.set('cursor', request.cursor);
    if (request.tenant !== undefined) query.set('tenant', request.tenant);
    if (request.idempotencyKey !== undefined) query.set('idempotencyKey', request.idempotencyKey);
    if (request.total === true) query.set('total', 'true');
    const qs = query.toString();
    return this.json<JobPage>(`/v1/jobs${qs ? `?${qs}` : ''}`, request.signal ? { signal: request.signal } : {});
  }

  /** Cancels the job (a finished job stays as it was); answers its view. */
  cancel(id: string, signal?: AbortSignal): Promise<JobView> {
    return this.json<JobView>(this.jobPath(id, '/cancel'), { method: 'POST', ...(signal ? { signal } : {}) });
  }

  /**
   * Cancels one document of the job (its queued work never runs, its running work is aborted;
   * the other documents go on); answers the job's view. A document that ended stays as it was.
   */
  cancelDocument(id: string, documentId: string, signal?: AbortSignal): Promise<JobView> {
    return this.json<JobView>(this.jobPath(id, `/documents/${encodeURIComponent(documentId)}/cancel`), { method: 'POST', ...(signal ? { signal } : {}) });
  }

  /**
   * `GET /v1/jobs/:id/documents`: one page of the job's documents in input order, queued ones
   * included, with their status. `limit` 1 to 1000 (default 100); `cursor` is the previous page's
   * `nextCursor` (null on the last page); `status`: only the documents in these statuses.
   */
  jobDocuments(id: string, options: { limit?: number; cursor?: string; status?: readonly JobDocumentView['status'][]; signal?: AbortSignal } = {}): Promise<JobDocumentPage> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.cursor !== undefined) query.set('cursor', options.cursor);
    if (options.status !== undefined && options.status.length > 0) query.set('status', options.status.join(','));
    const qs = query.toString();
    return this.json<JobDocumentPage>(this.jobPath(id, `/documents${qs ? `?${qs}` : ''}`), options.signal ? { signal: options.signal } : {});
  }

  /** Every document of the job in input order, read `pageSize` (default 1000, the most) at a time (see {@link jobDocuments}). */
  async *allJobDocuments(id: string, options: { pageSize?: number; signal?: AbortSignal } = {}): AsyncGenerator<JobDocumentView> {
    const { pageSize = 1000, signal } = options;
    let cursor: string | undefined;
    for (;;) {
      const page = await this.jobDocuments(id, { limit: pageSize, ...(cursor === undefined ? {} : { cursor }), ...(signal ? { signal } : {}) });
      yield* page.items;
      if (page.nextCursor === null) return;
      cursor = page.nextCursor;
    }
  }

  /**
   * `DELETE /v1/jobs/:id`: cancels the job if it runs and removes its records (results, events,
   * reports); its stored documents stay. `not_found` (404) once it is gone.
   */
  async deleteJob(id: string, signal?: AbortSignal): Promise<void> {
    await this.request(this.jobPath(id), { method: 'DELETE', ...(signal ? { signal } : {}) });
  }

  /** Reruns the failed documents and chunks of a `failed` or `partially_succeeded` job; answers its view. */
  retry(id: string, signal?: AbortSignal): Promise<JobView> {
    return this.json<JobView>(this.jobPath(id, '/retry'), { method: 'POST', ...(signal ? { signal } : {}) });
  }

  /** `GET /v1/documents/:id`: a stored document of the caller's tenant. */
  getDocument(id: string, signal?: AbortSignal): Promise<DocumentView> {
    return this.json<DocumentView>(`/v1/documents/${encodeURIComponent(id)}`, signal ? { signal } : {});
  }

  /** A stored table's (CSV, XLSX) sheets and header columns, to pick the rows pipeline's `sheet` and `columns`. */
  inspectDocument(id: string, signal?: AbortSignal): Promise<TableOutlineView> {
    return this.json<TableOutlineView>(`/v1/documents/${encodeURIComponent(id)}/inspect`, { method: 'POST', ...(signal ? { signal } : {}) });
  }

  /**
   * `DELETE /v1/documents/:id`: removes a stored document of yours (and its bytes, unless another
   * document has the same content). `in_use` (409) while an unfinished job uses it.
   */
  async deleteDocument(id: string, signal?: AbortSignal): Promise<void> {
    await this.request(`/v1/documents/${encodeURIComponent(id)}`, { method: 'DELETE', ...(signal ? { signal } : {}) });
  }

  /** `GET /v1/documents/:id/pages/:page/image`: a page of a stored PDF drawn as a PNG (`dpi` 36–200, default 96). */
  async pageImage(documentId: string, page: number, options: { dpi?: number; signal?: AbortSignal } = {}): Promise<Blob> {
    const query = options.dpi === undefined ? '' : `?dpi=${options.dpi}`;
    const response = await this.request(`/v1/documents/${encodeURIComponent(documentId)}/pages/${page}/image${query}`, {
      headers: { accept: 'image/png' },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return response.blob();
  }

  /** `GET /metrics` (admin when auth is on): the server's Prometheus text exposition. */
  async metricsText(signal?: AbortSignal): Promise<string> {
    const response = await this.request('/metrics', { headers: { accept: 'text/plain' }, ...(signal ? { signal } : {}) });
    return response.text();
  }

  /**
   * `GET /v1/metrics/history` (admin): the deployment's activity, one sample per interval (pages,
   * tasks, failures by code, queue depth and age, tokens), from `since` (epoch ms; default the last hour).
   */
  metricsHistory(options: { since?: number; signal?: AbortSignal } = {}): Promise<{ intervalMs: number; items: MetricsSample[] }> {
    const query = options.since === undefined ? '' : `?since=${Math.max(0, Math.floor(options.since))}`;
    return this.json<{ intervalMs: number; items: MetricsSample[] }>(`/v1/metrics/history${query}`, options.signal ? { signal: options.signal } : {});
  }

  /**
   * `GET /v1/errors`: failed chunks and documents since `since` (epoch ms; default the last 24 h)
   * grouped by error code, each with a count and its newest as a sample; the caller's tenant's,
   * or for an admin every tenant's (or `tenant`'s).
   */
  async errors(options: { since?: number; tenant?: string; signal?: AbortSignal } = {}): Promise<{ items: ErrorGroupView[]; truncated: boolean }> {
    const query = new URLSearchParams();
    if (options.since !== undefined) query.set('since', String(Math.max(0, Math.floor(options.since))));
    if (options.tenant !== undefined) query.set('tenant', options.tenant);
    const qs = query.toString();
    return this.json<{ items: ErrorGroupView[]; truncated: boolean }>(`/v1/errors${qs ? `?${qs}` : ''}`, options.signal ? { signal: options.signal } : {});
  }

  /**
   * `POST /v1/jobs/estimate`: what a job would reserve (pages, credits when the server prices
   * jobs) and the caller's balance; refused as the submit would be. With `documents`, a count of
   * files not stored yet (a page each); with `documentIds`, stored documents whose pages are
   * counted (`pagesCounted`, `rows`, `documentsNotCounted`; at most 1,000); with both, `documents`
   * counts the files not stored yet (a page each).
   */
  estimate(
    request: ({ documents: number; documentIds?: string[] } | { documentIds: string[]; documents?: number }) & { pipeline?: string; options?: JsonObject },
    signal?: AbortSignal,
  ): Promise<JobEstimateView> {
    return this.json<JobEstimateView>('/v1/jobs/estimate', { method: 'POST', body: JSON.stringify(request), headers: { 'content-type': 'application/json' }, ...(signal ? { signal } : {}) });
  }

  /** `GET /v1/me`: the caller's tenant and role (`user` or `admin`). */
  me(signal?: AbortSignal): Promise<{ tenantId: string; role: 'user' | 'admin' }> {
    return this.json<{ tenantId: string; role: 'user' | 'admin' }>('/v1/me', signal ? { signal } : {});
  }

  /** `GET /v1/pipelines`: the pipelines a job may name, each with the JSON Schema its options are validated with. */
  async pipelines(signal?: AbortSignal): Promise<PipelineView[]> {
    const { items } = await this.json<{ items: PipelineView[] }>('/v1/pipelines', signal ? { signal } : {});
    return items;
  }

  /** `GET /v1/workers` (admin): the worker processes heard from lately. */
  async workers(signal?: AbortSignal): Promise<WorkerView[]> {
    const { items } = await this.json<{ items: WorkerView[] }>('/v1/workers', signal ? { signal } : {});
    return items;
  }

  /**
   * `GET /v1/queues` (admin): the task queue by priority, highest first: tasks waiting, delayed
   * retries, running tasks, and the age of each level's longest-waiting task.
   */
  async queues(signal?: AbortSignal): Promise<QueueLevelView[]> {
    const { items } = await this.json<{ items: QueueLevelView[] }>('/v1/queues', signal ? { signal } : {});
    return items;
  }

  /** `POST /v1/workers/:id/{pause,resume,drain}` (admin): heard by the worker at its next heartbeat. */
  commandWorker(id: string, command: 'pause' | 'resume' | 'drain'): Promise<WorkerView> {
    return this.json<WorkerView>(`/v1/workers/${encodeURIComponent(id)}/${command}`, { method: 'POST' });
  }

  /**
   * `GET /v1/jobs/:id/documents/:documentId/result`: one ended document's result; `not_found`
   * before it has ended. `pages: 'none'`: without its pages (`pagesOmitted`), for a long table
   * whose rows are read in windows ({@link documentRows}).
   */
  documentResult(id: string, documentId: string, options: { pages?: 'all' | 'none'; signal?: AbortSignal } = {}): Promise<DocumentOutput> {
    const query = options.pages === undefined ? '' : `?pages=${options.pages}`;
    return this.json<DocumentOutput>(this.jobPath(id, `/documents/${encodeURIComponent(documentId)}/result${query}`), options.signal ? { signal: options.signal } : {});
  }

  /** Final results so far, one per document in input order (every one of them: for one document, {@link documentResult}). */
  async results(id: string, signal?: AbortSignal): Promise<DocumentOutput[]> {
    const { items } = await this.json<{ items: DocumentOutput[] }>(this.jobPath(id, '/results'), signal ? { signal } : {});
    return items;
  }

  /**
   * `GET /v1/jobs/:id/download` (with `documentId`, one document's): the results of the ended
   * documents as a file, streamed. `json` and `ndjson` carry the full results (a document's
   * `ndjson` is its pages, a table's rows); `csv` and `xlsx` one row per page with a column per field.
   */
  async download(id: string, options: { format?: DownloadFormat; documentId?: string; formulas?: CsvFormulaMode; signal?: AbortSignal } = {}): Promise<ResultsDownload> {
    const format = options.format ?? 'json';
    const response = await this.request(this.downloadPath(id, options), options.signal ? { signal: options.signal } : {});
    return {
      name: attachmentName(response.headers.get('content-disposition'), `results.${format}`),
      mediaType: response.headers.get('content-type') ?? 'application/octet-stream',
      body: response.body ?? new Blob([]).stream(),
    };
  }

  /** The path of a results download: the job's, or with `documentId` one document's; `formulas` for CSV (default `escape`). */
  downloadPath(id: string, options: { format?: DownloadFormat; documentId?: string; formulas?: CsvFormulaMode } = {}): string {
    const path = options.documentId === undefined ? '/download' : `/documents/${encodeURIComponent(options.documentId)}/download`;
    const query = new URLSearchParams({ format: options.format ?? 'json', ...(options.formulas === undefined ? {} : { formulas: options.formulas }) });
    return this.jobPath(id, `${path}?${query.toString()}`);
  }

  /** The path of one of the job's files (`name`), or with no name of all of them as a zip. */
  artifactPath(id: string, name?: string): string {
    return this.jobPath(id, name === undefined ? '/artifacts.zip' : `/artifacts/${encodeURIComponent(name)}`);
  }

  /**
   * `POST /v1/download-tickets`: an absolute URL that opens `path` (a {@link downloadPath} or
   * {@link artifactPath}) once within a minute as this client, with no `Authorization`: for a
   * browser, which then navigates `<a download href=url>` and streams the file to disk.
   */
  async downloadUrl(path: string): Promise<{ url: string; expiresAt: number }> {
    const ticket = await this.json<{ url: string; expiresAt: number }>('/v1/download-tickets', { method: 'POST', body: JSON.stringify({ path }), headers: { 'content-type': 'application/json' } });
    return { url: `${this.baseUrl}${ticket.url}`, expiresAt: ticket.expiresAt };
  }

  /**
   * A page of the files the job made (reports rendered per row), in input and row order: of one
   * document or data row when asked; `nextCursor` (null on the last page) asks for the next one.
   */
  artifactPage(id: string, options: ArtifactPageOptions = {}): Promise<ArtifactPage> {
    const query = new URLSearchParams();
    if (options.documentId !== undefined) query.set('documentId', options.documentId);
    if (options.row !== undefined) query.set('row', String(options.row));
    if (options.limit !== undefined) query.set('limit', String(options.limit));
    if (options.cursor !== undefined) query.set('cursor', options.cursor);
    const qs = query.toString();
    return this.json<ArtifactPage>(this.jobPath(id, `/artifacts${qs ? `?${qs}` : ''}`), options.signal ? { signal: options.signal } : {});
  }

  /** Every file the job made (of one document or row when asked), read a page of 1,000 at a time (see {@link artifactPage}). */
  async artifacts(id: string, options: Omit<ArtifactPageOptions, 'limit' | 'cursor'> = {}): Promise<ArtifactView[]> {
    const all: ArtifactView[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await this.artifactPage(id, { ...options, limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
      for (const item of page.items) all.push(item);
      if (!page.nextCursor) return all; // null on the last page; absent from a server that lists all at once
      cursor = page.nextCursor;
    }
  }

  /**
   * One of the job's files as a web stream: the whole file, or `range` of it (inclusive bytes,
   * as in HTTP Range; the server answers 206). `not_found` when the job has no such file.
   */
  async downloadArtifact(id: string, name: string, options: { range?: { start: number; end?: number }; signal?: AbortSignal } = {}): Promise<ReadableStream<Uint8Array>> {
    const { range, signal } = options;
    const response = await this.request(this.jobPath(id, `/artifacts/${encodeURIComponent(name)}`), {
      ...(range ? { headers: { range: `bytes=${range.start}-${range.end ?? ''}` } } : {}),
      ...(signal ? { signal } : {}),
    });
    return response.body ?? new Blob([]).stream();
  }

  /** Every file of the job as one zip, streamed as the server makes it. */
  async artifactsZip(id: string, options: { signal?: AbortSignal } = {}): Promise<ReadableStream<Uint8Array>> {
    const response = await this.request(this.jobPath(id, '/artifacts.zip'), options.signal ? { signal: options.signal } : {});
    return response.body ?? new Blob([]).stream();
  }

  /** Results as NDJSON, each document as soon as it and those before it ended; ends with the job. */
  async *streamResults(id: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<DocumentOutput> {
    const response = await this.request(this.jobPath(id, '/results'), {
      headers: { accept: 'application/x-ndjson' },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!response.body) return;
    for await (const line of lines(response.body)) yield JSON.parse(line) as DocumentOutput;
  }

  /**
   * One document's pages (a table's rows) in order, each with its text, cells, fields and
   * failure, streamed: how to read a long table whose result omits its rows (`pagesOmitted`).
   */
  async *documentPages(id: string, documentId: string, options: { signal?: AbortSignal } = {}): AsyncGenerator<DocumentPageResult> {
    const response = await this.request(this.jobPath(id, `/documents/${encodeURIComponent(documentId)}/pages`), {
      headers: { accept: 'application/x-ndjson' },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    if (!response.body) return;
    for await (const line of lines(response.body)) yield JSON.parse(line) as DocumentPageResult;
  }

  /**
   * One window of a document's rows (200 unless `limit`, at most 1000), optionally filtered and
   * sorted by the server, with how many rows the whole view has: what a table that scrolls
   * through 100,000 rows asks for as it goes. Only the checkpoints holding the window are read;
   * a sorted or filtered view reads every row once, then the server keeps its order.
   */
  async documentRows(id: string, documentId: string, query: RowViewQuery = {}, options: { signal?: AbortSignal } = {}): Promise<RowWindow> {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query) as [string, string | number | undefined][]) if (value !== undefined) params.set(name, String(value));
    if (!params.has('offset')) params.set('offset', '0');
    const response = await this.request(this.jobPath(id, `/documents/${encodeURIComponent(documentId)}/pages?${params.toString()}`), {
      headers: { accept: 'application/x-ndjson' },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const rows: DocumentPageResult[] = [];
    if (response.body) for await (const line of lines(response.body)) rows.push(JSON.parse(line) as DocumentPageResult);
    return { total: Number(response.headers.get('x-total-count') ?? rows.length), offset: query.offset ?? 0, rows };
  }

  /**
   * The job's events over SSE, from `afterSeq`, until its last terminal event (`job.completed`,
   * `job.failed`, `job.cancelled`; a retried job has one per run), or at once when the job has ended and `afterSeq` is its last
   * (the server answers 204). A dropped connection, a 5xx or a 429 reconnects with `Last-Event-ID`
   * (waiting at least the answer's `Retry-After`), so every `seq` arrives once and in order; other
   * 4xx answers throw.
   */
  async *events(id: string, options: EventsOptions = {}): AsyncGenerator<ReamEvent> {
    let lastSeq = options.afterSeq ?? 0;
    let failures = 0;
    const parser = new SseParser();
    for (;;) {
      let progressed = false;
      let failure: Error | undefined;
      // The server's `Retry-After` on a 429 or 503: the reconnect waits at least that long.
      let retryAfter = 0;
      try {
        const response = await this.request(this.jobPath(id, '/events'), {
          retry: false,
          headers: { accept: 'text/event-stream', ...(lastSeq > 0 ? { 'last-event-id': String(lastSeq) } : {}) },
          ...(options.signal ? { signal: options.signal } : {}),
        });
        // The job has ended and every event up to `lastSeq` was had already: nothing more comes.
        if (response.status === 204) return;
        options.onConnection?.(true);
        if (response.body) {
          // The server ends the stream once the job has ended, a moment after its terminal event
          // (and whatever was stored just after it); a retried job has one such event per run,
          // and the stream goes on past the earlier ones. A stream that ended after one is done.
          let sawEnd = false;
          for await (const message of parseSse(response.body, parser)) {
            if (message.data === '') continue;
            const event = JSON.parse(message.data) as ReamEvent;
            if (event.seq <= lastSeq) continue;
            lastSeq = event.seq;
            progressed = true;
            if (TERMINAL_EVENT_TYPES.has(event.type)) sawEnd = true;
            yield event;
          }
          if (sawEnd) return;
        }
      } catch (error) {
        if (options.signal?.aborted) throw options.signal.reason;
        if (isAbort(error)) throw error;
        // 4xx (not found, bad Last-Event-ID, auth) will not get better by asking again.
        if (error instanceof ReamHttpError && error.httpStatus < 500 && error.httpStatus !== 429) throw error;
        if (error instanceof SyntaxError) throw ReamError.nonRetryable('internal', `bad event from server: ${error.message}`, { cause: error });
        if (error instanceof ReamError) retryAfter = error.retryAfterMs ?? 0;
        failure = error instanceof Error ? error : new Error(String(error));
      } finally {
        parser.end();
      }
      // The connection dropped (or failed) before the terminal event: resume after lastSeq.
      options.onConnection?.(false, failure);
      failures = progressed ? 0 : failures + 1;
      if (failures > this.maxReconnects) {
        throw failure ?? ReamError.retryable('io_error', `event stream of job ${id} keeps closing before the job ends`);
      }
      await sleep(Math.max(parser.retryMs ?? this.reconnectDelayMs, retryAfter), options.signal);
    }
  }

  /** Follows the job's events to its end and answers its final view. */
  async wait(id: string, options: WaitOptions = {}): Promise<JobView> {
    for await (const event of this.events(id, options.signal ? { signal: options.signal } : {})) {
      options.onProgress?.(event.progress, event);
    }
    return this.getJob(id, options.signal);
  }
}
