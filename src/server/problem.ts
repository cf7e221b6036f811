import type { Socket } from 'node:net';
import type { FastifyReply } from 'fastify';
import { ERROR_CODES, ReamError, isErrorCode, type ErrorCode } from '../errors.ts';
import { isServiceDown, isStatementCancelled, STATEMENT_CANCELLED_MESSAGE } from '../service-down.ts';

/** An RFC 9457 problem document, with ream's stable `code` (DESIGN.md §9). */
export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ErrorCode;
  detail: string;
  details?: Record<string, unknown>;
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

function title(code: ErrorCode): string {
  const words = code.replaceAll('_', ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** The stable code of an error that only has an HTTP status (Fastify's own errors, tus protocol errors). */
function fromHttpStatus(status: number, message: string): ReamError {
  if (status === 401) return new ReamError('unauthorized', message);
  if (status === 403) return new ReamError('forbidden', message);
  if (status === 404 || status === 410) return new ReamError('not_found', message);
  if (status === 413) return new ReamError('file_too_large', message);
  if (status === 415) return new ReamError('unsupported_type', message);
  if (status === 429) return new ReamError('rate_limited', message);
  if (status === 460) return new ReamError('checksum_mismatch', message); // tus checksum extension
  if (status === 423 || status === 503) return new ReamError('unavailable', message); // tus: the upload is locked by another request
  if (status >= 400 && status < 500) return new ReamError('validation_failed', message);
  return new ReamError('internal', 'internal error');
}

function hasStatusCode(error: unknown): error is Error & { statusCode: number } {
  return error instanceof Error && typeof (error as { statusCode?: unknown }).statusCode === 'number';
}

interface SchemaError {
  instancePath?: string;
  keyword?: string;
  params?: { type?: unknown };
}

/**
 * Fastify's schema message, except where it misleads: a query parameter given twice arrives as
 * an array, which Ajv calls "must be string" although each value was one.
 */
function validationMessage(error: Error & { validation?: unknown; validationContext?: unknown }): string {
  const [first] = Array.isArray(error.validation) ? (error.validation as SchemaError[]) : [];
  if (error.validationContext === 'querystring' && first?.keyword === 'type' && first.params?.type === 'string') {
    return `querystring${first.instancePath ?? ''} is given more than once: give it once`;
  }
  return error.message;
}

/** Turns anything thrown into a problem. Unexpected errors say only "internal error": no stack, no message leak. */
export function toProblem(error: unknown): Problem {
  let reamError: ReamError;
  if (error instanceof ReamError) reamError = error;
  else if (error instanceof Error && 'validation' in error) reamError = new ReamError('validation_failed', validationMessage(error));
  else if (hasStatusCode(error)) reamError = fromHttpStatus(error.statusCode, error.message);
  else if (isStatementCancelled(error)) reamError = ReamError.retryable('unavailable', STATEMENT_CANCELLED_MESSAGE);
  else if (isServiceDown(error)) reamError = ReamError.retryable('unavailable', 'a service this server depends on (its database or queue) does not answer: try again shortly');
  else reamError = new ReamError('internal', 'internal error');
  const code = isErrorCode(reamError.code) ? reamError.code : 'internal';
  const status = ERROR_CODES[code].status;
  return {
    type: `urn:ream:problem:${code}`,
    title: title(code),
    status,
    code,
    detail: reamError.message,
    ...(reamError.details ? { details: reamError.details } : {}),
  };
}

/**
 * A problem for an answer whose HTTP status is fixed by a protocol (tus: 409 offset conflict, 412
 * version, 460 checksum): the stable code that status maps to, the status kept as sent.
 */
export function problemForStatus(status: number, detail: string): Problem {
  return { ...toProblem(fromHttpStatus(status, detail)), status };
}

/**
 * Fastify's `clientErrorHandler`: a request Node's HTTP parser refuses (malformed request line or
 * headers, headers too large, a request timeout) is answered with a problem too, then closed.
 */
export function answerClientError(error: Error & { code?: string }, socket: Socket): void {
  if (error.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const [status, reason, code] =
    error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Request Header Fields Too Large', 'validation_failed' as const]
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Request Timeout', 'timeout' as const]
    : [400, 'Bad Request', 'validation_failed' as const];
  const body = JSON.stringify({ ...toProblem(ReamError.nonRetryable(code, `malformed or incomplete HTTP request (${reason})`)), status });
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/**
 * The `Retry-After` (seconds) of a 503: a database, queue or bucket that did not answer is
 * usually back within seconds (a restart, a failover), and a client told nothing either retries
 * at once, in a loop, or gives up (RFC 9110 §10.2.3: a 503 may say when to come back).
 */
export const UNAVAILABLE_RETRY_AFTER_S = 5;

/** Sends `problem`; a 503 says when to retry (`Retry-After`) unless the reply says so already. */
export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  if (problem.status === 503 && !reply.hasHeader('retry-after')) reply.header('retry-after', String(UNAVAILABLE_RETRY_AFTER_S));
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}
