/**
 * `ream/client`: a dependency-free SDK for ream's HTTP API (DESIGN.md §8) over the global
 * `fetch`. Submits files as multipart (fields first, files streamed from disk), follows jobs over
 * Server-Sent Events (resuming with `Last-Event-ID` when a connection drops) and turns
 * `application/problem+json` answers into {@link ReamHttpError}s carrying the stable `code`.
 */
import { openAsBlob } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { ReamError, isErrorCode, type ErrorCode } from '../errors.ts';
import type { ReamEvent } from '../events/types.ts';
import type { JsonObject } from '../json.ts';
import type { DocumentOutput } from '../pipeline/types.ts';
import type { JobStatus } from '../store/port.ts';
import type { JobView, PriorityName } from '../server/views.ts';
import { parseSse, SseParser } from './sse.ts';

export type { ReamEvent, EventType, Progress } from '../events/types.ts';
export type { DocumentOutput } from '../pipeline/types.ts';
export type { JobStatus } from '../store/port.ts';
export type { JobView, PriorityName } from '../server/views.ts';
export { parseSse, SseParser, type SseMessage } from './sse.ts';

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
}

/** A file to submit: a path on disk (streamed, never read whole) or bytes with a name. */
export type SubmitFile = string | { name: string; data: Blob | Uint8Array };

export interface SubmitRequest {
  files: readonly SubmitFile[];
  pipeline?: string;
  options?: JsonObject;
  priority?: PriorityName;
  /** A repeat with the same key answers the first job and uploads nothing new. */
  idempotencyKey?: string;
  signal?: AbortSignal;
}

export interface ListJobsRequest {
  status?: JobStatus;
  limit?: number;
  cursor?: string;
}

export interface JobPage {
  items: JobView[];
  nextCursor: string | null;
}

export interface EventsOptions {
  /** Replay only events with a greater `seq` (default 0: every event of the job). */
  afterSeq?: number;
  signal?: AbortSignal;
}

export interface WaitOptions {
  /** Called with each event's progress (pages and documents), in `seq` order. */
  onProgress?: (progress: ReamEvent['progress'], event: ReamEvent) => void;
  signal?: AbortSignal;
}

/** An RFC 9457 problem as ream's server sends it. */
export interface ProblemBody {
  type?: string;
  title?: string;
  status?: number;
  code?: string;
  detail?: string;
  details?: Record<string, unknown>;
}

/**
 * A failed HTTP request. `code` is the problem's stable code (or one derived from the status
 * when the body is not a problem); `httpStatus` is the status the server answered.
 */
export class ReamHttpError extends ReamError {
  readonly httpStatus: number;
  readonly problem: ProblemBody | undefined;

  constructor(code: ErrorCode, message: string, httpStatus: number, problem?: ProblemBody) {
    super(code, message, problem?.details ? { details: problem.details } : {});
    this.httpStatus = httpStatus;
    this.problem = problem;
  }
}

export const TERMINAL_EVENT_TYPES: ReadonlySet<string> = new Set(['job.completed', 'job.failed', 'job.cancelled']);
export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>(['succeeded', 'partially_succeeded', 'failed', 'cancelled']);

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 409) return 'cancelled';
  if (status === 413) return 'file_too_large';
  if (status === 415) return 'unsupported_type';
  if (status === 429) return 'rate_limited';
  if (status >= 400 && status < 500) return 'validation_failed';
  return 'internal';
}

/** Builds the error for a non-2xx response, from its problem+json body when it has one. */
export async function errorFromResponse(response: Response): Promise<ReamHttpError> {
  const type = response.headers.get('content-type') ?? '';
  let problem: ProblemBody | undefined;
  if (/json/i.test(type)) {
    try {
      const body: unknown = await response.json();
      if (typeof body === 'object' && body !== null && !Array.isArray(body)) problem = body;
    } catch {
      problem = undefined;
    }
  } else {
    await response.body?.cancel().catch(() => undefined);
  }
  const code = problem && isErrorCode(problem.code) ? problem.code : codeForStatus(response.status);
  const message = problem?.detail ?? problem?.title ?? `HTTP ${response.status} ${response.statusText}`.trim();
  return new ReamHttpError(code, message, response.status, problem);
}

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

  constructor(options: ReamClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.apiKey = options.apiKey;
    this.fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.reconnectDelayMs = options.reconnectDelayMs ?? 1000;
    this.maxReconnects = options.maxReconnects ?? 10;
  }

  /** Sends a request; a non-2xx answer throws {@link ReamHttpError}, a network failure `io_error`. */
  private async request(path: string, init: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { ...init.headers };
    if (this.apiKey !== undefined) headers.authorization = `Bearer ${this.apiKey}`;
    let response: Response;
    try {
      response = await this.fetchImpl(`${this.baseUrl}${path}`, { ...init, headers });
    } catch (error) {
      if (isAbort(error)) throw error;
      const reason = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw ReamError.retryable('io_error', `cannot reach ${this.baseUrl}: ${reason}`, { cause: error });
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
   * `POST /v1/jobs` as multipart: `pipeline`, `options`, `priority` first, then one `file` part
   * per file. Paths are streamed from disk (`fs.openAsBlob`), so big files are not buffered.
   */
  async submit(request: SubmitRequest): Promise<JobView> {
    if (request.files.length === 0) throw ReamError.nonRetryable('validation_failed', 'submit needs at least one file');
    const form = new FormData();
    if (request.pipeline !== undefined) form.append('pipeline', request.pipeline);
    if (request.options !== undefined) form.append('options', JSON.stringify(request.options));
    if (request.priority !== undefined) form.append('priority', request.priority);
    for (const file of request.files) {
      if (typeof file === 'string') {
        let blob: Blob;
        try {
          const info = await stat(file);
          if (!info.isFile()) throw ReamError.nonRetryable('validation_failed', `${file} is not a file`);
          blob = await openAsBlob(file);
        } catch (error) {
          if (error instanceof ReamError) throw error;
          const code = (error as NodeJS.ErrnoException).code;
          throw ReamError.nonRetryable(code === 'ENOENT' ? 'not_found' : 'io_error', `cannot read ${file}: ${(error as Error).message}`, { cause: error });
        }
        form.append('file', blob, basename(file));
      } else {
        const blob = file.data instanceof Blob ? file.data : new Blob([file.data]);
        form.append('file', blob, file.name);
      }
    }
    return this.json<JobView>('/v1/jobs', {
      method: 'POST',
      body: form,
      headers: request.idempotencyKey === undefined ? {} : { 'idempotency-key': request.idempotencyKey },
      ...(request.signal ? { signal: request.signal } : {}),
    });
  }

  getJob(id: string, signal?: AbortSignal): Promise<JobView> {
    return this.json<JobView>(this.jobPath(id), signal ? { signal } : {});
  }

  listJobs(request: ListJobsRequest = {}): Promise<JobPage> {
    const query = new URLSearchParams();
    if (request.status !== undefined) query.set('status', request.status);
    if (request.limit !== undefined) query.set('limit', String(request.limit));
    if (request.cursor !== undefined) query.set('cursor', request.cursor);
    const qs = query.toString();
    return this.json<JobPage>(`/v1/jobs${qs ? `?${qs}` : ''}`);
  }

  /** Cancels the job (a finished job stays as it was); answers its view. */
  cancel(id: string): Promise<JobView> {
    return this.json<JobView>(this.jobPath(id, '/cancel'), { method: 'POST' });
  }

  /** Final results so far, one per document in input order. */
  async results(id: string): Promise<DocumentOutput[]> {
    const { items } = await this.json<{ items: DocumentOutput[] }>(this.jobPath(id, '/results'));
    return items;
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
   * The job's events over SSE, from `afterSeq`, until its terminal event (`job.completed`,
   * `job.failed`, `job.cancelled`). A dropped connection or a 5xx reconnects with
   * `Last-Event-ID`, so every `seq` arrives once and in order; 4xx answers throw.
   */
  async *events(id: string, options: EventsOptions = {}): AsyncGenerator<ReamEvent> {
    let lastSeq = options.afterSeq ?? 0;
    let failures = 0;
    const parser = new SseParser();
    for (;;) {
      let progressed = false;
      let failure: Error | undefined;
      try {
        const response = await this.request(this.jobPath(id, '/events'), {
          headers: { accept: 'text/event-stream', ...(lastSeq > 0 ? { 'last-event-id': String(lastSeq) } : {}) },
          ...(options.signal ? { signal: options.signal } : {}),
        });
        if (response.body) {
          for await (const message of parseSse(response.body, parser)) {
            if (message.data === '') continue;
            const event = JSON.parse(message.data) as ReamEvent;
            if (event.seq <= lastSeq) continue;
            lastSeq = event.seq;
            progressed = true;
            yield event;
            if (TERMINAL_EVENT_TYPES.has(event.type)) return;
          }
        }
      } catch (error) {
        if (isAbort(error) || options.signal?.aborted) throw error;
        // 4xx (not found, bad Last-Event-ID, auth) will not get better by asking again.
        if (error instanceof ReamHttpError && error.httpStatus < 500 && error.httpStatus !== 429) throw error;
        if (error instanceof SyntaxError) throw ReamError.nonRetryable('internal', `bad event from server: ${error.message}`, { cause: error });
        failure = error instanceof Error ? error : new Error(String(error));
      } finally {
        parser.end();
      }
      // The connection dropped (or failed) before the terminal event: resume after lastSeq.
      failures = progressed ? 0 : failures + 1;
      if (failures > this.maxReconnects) {
        throw failure ?? ReamError.retryable('io_error', `event stream of job ${id} keeps closing before the job ends`);
      }
      await delay(parser.retryMs ?? this.reconnectDelayMs, undefined, options.signal ? { signal: options.signal } : {});
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
