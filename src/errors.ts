import { isDiskFull } from './disk-full.ts';
import { isServiceDown, isStatementCancelled, STATEMENT_CANCELLED_MESSAGE } from './service-down.ts';

/**
 * Every failure a user can meet carries one of these stable codes (DESIGN.md §9).
 * The codes are a closed union on purpose: clients switch on them, so adding one is an
 * API change and removing or renaming one is a breaking change.
 */
export const ERROR_CODES = {
  unsupported_type: { status: 415, retryable: false },
  empty_file: { status: 422, retryable: false },
  file_too_large: { status: 413, retryable: false },
  too_many_pages: { status: 422, retryable: false },
  invalid_pdf: { status: 422, retryable: false },
  encrypted_pdf: { status: 422, retryable: false },
  invalid_text: { status: 422, retryable: false },
  /** A page could not be rendered or recognised by OCR; the document's other pages carry on. */
  ocr_failed: { status: 422, retryable: false },
  /** A CSV or XLSX file that cannot be read as a table, or one row of it that does not fit its header. */
  invalid_sheet: { status: 422, retryable: false },
  /** A PNG, JPEG, TIFF or WebP image (or a file named as one) whose pixels cannot be decoded. */
  invalid_image: { status: 422, retryable: false },
  /** A Word .docx (or a file named as one) that is not a readable Word document. */
  invalid_docx: { status: 422, retryable: false },
  /** An .eml e-mail (or a file named as one) that is not a readable RFC 5322 message. */
  invalid_email: { status: 422, retryable: false },
  timeout: { status: 504, retryable: true },
  /** The worker running a task stopped (killed, out of memory, its machine lost) on the task's last attempt: the task itself may be fine, `retry` runs it again. */
  worker_lost: { status: 500, retryable: true },
  /** A report template that does not parse, or uses what a sandboxed template may not (files, partials); `details` has `line` and `column`. */
  template_invalid: { status: 422, retryable: false },
  /** One row's (or document's) report could not be rendered: a filter refused a value, Chromium did not print it; its siblings carry on. Its limits are `resource_limit` and `timeout`. */
  template_render_failed: { status: 422, retryable: false },
  /** `pdf` reports need Chromium and none was found (install the `chromium` package or set REAM_CHROMIUM_PATH). */
  renderer_unavailable: { status: 503, retryable: false },
  resource_limit: { status: 422, retryable: false },
  cancelled: { status: 409, retryable: false },
  analyzer_failed: { status: 502, retryable: true },
  rate_limited: { status: 429, retryable: true },
  upload_incomplete: { status: 409, retryable: false },
  /** A tus PATCH whose Upload-Offset is not the upload's offset; `details.offset` (and the Upload-Offset header) says where to go on from. */
  upload_offset_mismatch: { status: 409, retryable: false },
  checksum_mismatch: { status: 422, retryable: false },
  not_found: { status: 404, retryable: false },
  unauthorized: { status: 401, retryable: false },
  forbidden: { status: 403, retryable: false },
  validation_failed: { status: 400, retryable: false },
  io_error: { status: 500, retryable: true },
  /** A service ream depends on (a database, a queue) does not answer: worth retrying later. */
  unavailable: { status: 503, retryable: true },
  internal: { status: 500, retryable: true },
  /** The model provider cannot be reached or answered 5xx: worth retrying later. */
  llm_unavailable: { status: 503, retryable: true },
  /** The model provider throttled the call (429); `retryAfterMs` carries its `Retry-After`. */
  llm_rate_limited: { status: 429, retryable: true },
  /** The model's answer stayed invalid (not JSON, or not the schema) after the bounded repairs. */
  llm_invalid_output: { status: 502, retryable: false },
  /** The model declined to answer (a refusal, or a content filter stopped it). */
  llm_refused: { status: 422, retryable: false },
  /** The prompt does not fit the model's context window, even split as far as it goes. */
  llm_context_too_long: { status: 413, retryable: false },
  /** The job's token budget (`maxTokens`) would be overspent by the next call. */
  budget_exceeded: { status: 402, retryable: false },
  /** The tenant's credit balance does not cover the job's estimated price; `details` has `balance` and `needed`. */
  insufficient_credits: { status: 402, retryable: false },
  /** A tenant quota (pages per day, concurrent jobs, storage) would be exceeded; `details` has `quota`, `limit`, `used` and `needed`. */
  quota_exceeded: { status: 429, retryable: true },
  /** An idempotency key used again for another request (another pipeline, other options, another amount); `details.differing` names what differs. */
  idempotency_conflict: { status: 422, retryable: false },
  /** The resource is in use (a document an unfinished job reads) and cannot be removed now. */
  in_use: { status: 409, retryable: false },
  /** The document was deleted after the job first read it (a retry of the job cannot read it again). */
  document_deleted: { status: 410, retryable: false },
  /** The job counted the document's pages as an older ream cut them, which this one cuts otherwise (a text's size pagination): submit it in a new job. */
  pages_changed: { status: 409, retryable: false },
  /** A password-protected (encrypted) Office document (.docx, .xlsx, .pptx): an OLE2 container, not a ZIP, that ream cannot open. */
  encrypted_file: { status: 422, retryable: false },
  /** The data dir's database file is not a SQLite database or is damaged: restore it, or use another data dir. */
  data_dir_damaged: { status: 500, retryable: false },
  /** The data dir or database was migrated by a newer ream; `details.migrations` names what this ream does not know. */
  schema_too_new: { status: 500, retryable: false },
} as const satisfies Record<string, { status: number; retryable: boolean }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ReamErrorOptions {
  /** Overrides the code's default retryability (see {@link ERROR_CODES}). */
  retryable?: boolean;
  cause?: unknown;
  /** Extra machine-readable facts (a page number, a limit, …); must be JSON-serialisable. */
  details?: Record<string, unknown>;
  /**
   * When to try again, in ms from now: what a rate-limited service said (`Retry-After`). Retries
   * (batch items, queue tasks) wait this long instead of their backoff delay. A finite number ≥ 0.
   */
  retryAfterMs?: number;
}

/** The plain, serialisable shape of an error: what results, events and HTTP problems carry. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  retryable?: boolean;
  details?: Record<string, unknown>;
}

/**
 * The one error class of ream: a stable `code`, an HTTP `status`, and whether retrying
 * can help. Stages (and batch item functions) throw `ReamError.nonRetryable('encrypted_pdf', …)`
 * for bad input so the engine fails the item at once instead of spending its retry budget; a
 * rate-limited call throws one with `retryAfterMs` to say when to try again.
 */
export class ReamError extends Error {
  override readonly name = 'ReamError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;
  /** See {@link ReamErrorOptions.retryAfterMs}; not part of {@link toJSON} (a hint for the retrier, not a result). */
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: ReamErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.retryable = options.retryable ?? ERROR_CODES[code].retryable;
    this.details = options.details;
    const after = options.retryAfterMs;
    // A bad hint is dropped rather than thrown: the error being built is the one to report.
    this.retryAfterMs = after !== undefined && Number.isFinite(after) && after >= 0 ? after : undefined;
  }

  static nonRetryable(code: ErrorCode, message: string, options: Omit<ReamErrorOptions, 'retryable'> = {}): ReamError {
    return new ReamError(code, message, { ...options, retryable: false });
  }

  static retryable(code: ErrorCode, message: string, options: Omit<ReamErrorOptions, 'retryable'> = {}): ReamError {
    return new ReamError(code, message, { ...options, retryable: true });
  }

  toJSON(): ErrorInfo {
    return {
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      ...(this.details ? { details: this.details } : {}),
    };
  }
}

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/**
 * Turns anything thrown into a {@link ReamError}. Unknown errors become `internal`
 * (retryable: a bug or a passing fault, not bad input), a database or queue that does not
 * answer `unavailable` (see service-down.ts), a write that found the disk full `io_error`; `AbortError`s become `cancelled`
 * and `TimeoutError`s (from `AbortSignal.timeout`) become `timeout`.
 */
export function toReamError(error: unknown): ReamError {
  if (error instanceof ReamError) return error;
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return new ReamError('timeout', error.message, { cause: error });
    if (error.name === 'AbortError') return new ReamError('cancelled', error.message || 'cancelled', { cause: error });
    // PostgreSQL or Redis down, restarting or out of connection slots: retried as `unavailable`
    // (seconds apart), not as `internal`, whose quick retries were all spent before it was back.
    if (isStatementCancelled(error)) return new ReamError('unavailable', `${STATEMENT_CANCELLED_MESSAGE} (${error.message})`, { cause: error });
    if (isServiceDown(error)) return new ReamError('unavailable', error.message, { cause: error });
    // A full disk is the operator's to fix, not a fault of ream's: said as such, and worth retrying once there is room.
    if (isDiskFull(error)) return new ReamError('io_error', `no space left to write (the disk or quota is full): ${error.message}`, { cause: error });
    return new ReamError('internal', error.message, { cause: error });
  }
  return new ReamError('internal', thrownMessage(error), { cause: error });
}

/**
 * The message of something thrown that is no Error: a string as it is, an object's own
 * `message` (a plain `{ code, message }` a library threw), else its JSON, not "[object Object]".
 */
function thrownMessage(thrown: unknown): string {
  if (typeof thrown === 'object' && thrown !== null) {
    const { message } = thrown as { message?: unknown };
    if (typeof message === 'string' && message !== '') return message;
    try {
      const json = JSON.stringify(thrown);
      if (json !== undefined && json !== '{}') return json.length > 500 ? `${json.slice(0, 500)}…` : json;
    } catch {
      // a cycle or a BigInt: the plain form below
    }
  }
  if (typeof thrown === 'string' && thrown !== '') return thrown;
  return `${thrown === '' ? 'an empty string' : String(thrown)} was thrown, not an Error`;
}

/** Rebuilds a {@link ReamError} from its serialised form (across threads, processes, the store). */
export function fromErrorInfo(info: ErrorInfo): ReamError {
  const code = isErrorCode(info.code) ? info.code : 'internal';
  return new ReamError(code, info.message, {
    ...(info.retryable === undefined ? {} : { retryable: info.retryable }),
    ...(info.details ? { details: info.details } : {}),
  });
}

/**
 * A file that could not be opened or read, as a {@link ReamError}: `not_found` when it does not
 * exist, `io_error` otherwise (a directory, no permission, a failing disk). Not retryable: the
 * same path fails the same way until someone changes it.
 */
export function fileReadError(path: string, error: unknown): ReamError {
  if (error instanceof ReamError) return error;
  const code = (error as NodeJS.ErrnoException | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  return ReamError.nonRetryable(code === 'ENOENT' ? 'not_found' : 'io_error', `cannot read ${path}: ${message}`, { cause: error });
}
