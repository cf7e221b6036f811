import { ReamError, isErrorCode, type ErrorCode } from '../errors.ts';

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

  /** `retryAfterMs`: what the answer's `Retry-After` asked (see {@link retryAfterMs}). */
  constructor(code: ErrorCode, message: string, httpStatus: number, problem?: ProblemBody, retryAfterMs?: number) {
    super(code, message, { ...(problem?.details ? { details: problem.details } : {}), ...(retryAfterMs === undefined ? {} : { retryAfterMs }) });
    this.httpStatus = httpStatus;
    this.problem = problem;
  }
}

function codeForStatus(status: number): ErrorCode {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  // 409 without a problem body (a proxy's): a conflict, of which `in_use` is the general one.
  if (status === 409) return 'in_use';
  if (status === 413) return 'file_too_large';
  if (status === 415) return 'unsupported_type';
  if (status === 429) return 'rate_limited';
  if (status >= 400 && status < 500) return 'validation_failed';
  return 'internal';
}

function parseProblem(body: string): ProblemBody | undefined {
  try {
    const value: unknown = JSON.parse(body);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A `Retry-After` (seconds, or an HTTP date) in ms from `now`, on the answers it means "when to
 * ask again" for: 429 Too Many Requests (RFC 6585 §4) and 503 Service Unavailable (RFC 9110
 * §10.2.3). Undefined when absent or unreadable.
 */
export function retryAfterMs(status: number, header: string | null | undefined, now = Date.now()): number | undefined {
  if ((status !== 429 && status !== 503) || header === null || header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The error for a non-2xx answer whose body was read already (`body` is ignored unless the type is JSON). */
export function errorFromAnswer(status: number, statusText: string, contentType: string, body: string, retryAfter?: string | null): ReamHttpError {
  return errorFromProblem(status, statusText, /json/i.test(contentType) ? parseProblem(body) : undefined, retryAfterMs(status, retryAfter));
}

/** The error for a problem document (or, without one, for the bare status). */
export function errorFromProblem(status: number, statusText: string, problem: ProblemBody | undefined, retryAfter?: number): ReamHttpError {
  const code = problem && isErrorCode(problem.code) ? problem.code : codeForStatus(status);
  const message = problem?.detail ?? problem?.title ?? `HTTP ${status} ${statusText}`.trim();
  return new ReamHttpError(code, message, status, problem, retryAfter);
}

/** Builds the error for a non-2xx response, from its problem+json body when it has one; `retryAfterMs` from its `Retry-After`. */
export async function errorFromResponse(response: Response): Promise<ReamHttpError> {
  const type = response.headers.get('content-type') ?? '';
  let body = '';
  if (/json/i.test(type)) body = await response.text().catch(() => '');
  else await response.body?.cancel().catch(() => undefined);
  return errorFromAnswer(response.status, response.statusText, type, body, response.headers.get('retry-after'));
}

/** Why a fetch failed: its errors are bare (`fetch failed`, `terminated`), the socket's reason is their cause. */
export function fetchFailureReason(error: unknown): string {
  return error instanceof Error && error.cause instanceof Error ? error.cause.message : error instanceof Error ? error.message : String(error);
}

/** A failure to reach the server at all (refused, reset, DNS): worth retrying later. */
export function unreachable(baseUrl: string, error: unknown): ReamError {
  return ReamError.retryable('io_error', `cannot reach ${baseUrl}: ${fetchFailureReason(error)}`, { cause: error });
}
