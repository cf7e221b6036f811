import type { FastifyReply } from 'fastify';
import { ERROR_CODES, ReamError, isErrorCode, type ErrorCode } from '../errors.ts';

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

/** Fastify's own errors (bad JSON, too-large bodies, multipart limits) by HTTP status. */
function fromHttpStatus(status: number, message: string): ReamError {
  if (status === 404) return new ReamError('not_found', message);
  if (status === 413) return new ReamError('file_too_large', message);
  if (status === 415) return new ReamError('unsupported_type', message);
  if (status === 429) return new ReamError('rate_limited', message);
  if (status >= 400 && status < 500) return new ReamError('validation_failed', message);
  return new ReamError('internal', 'internal error');
}

function hasStatusCode(error: unknown): error is Error & { statusCode: number } {
  return error instanceof Error && typeof (error as { statusCode?: unknown }).statusCode === 'number';
}

/** Turns anything thrown into a problem. Unexpected errors say only "internal error": no stack, no message leak. */
export function toProblem(error: unknown): Problem {
  let reamError: ReamError;
  if (error instanceof ReamError) reamError = error;
  else if (error instanceof Error && 'validation' in error) reamError = new ReamError('validation_failed', error.message);
  else if (hasStatusCode(error)) reamError = fromHttpStatus(error.statusCode, error.message);
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

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}
