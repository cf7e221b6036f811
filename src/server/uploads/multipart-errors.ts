import { ReamError } from '../../errors.ts';

/** What the multipart parser (busboy) says about a body that is not well-formed multipart. */
const PARSER_MESSAGE = /multipart|boundary|part header|terminated early/i;

/**
 * A parser failure of a multipart body (no boundary, a body cut before its closing boundary, a
 * malformed part header) as `validation_failed`: the client sent it, it is not a server fault.
 * The parser throws plain errors without a `code`; anything else (a ReamError, a system error,
 * one of @fastify/multipart's coded errors) is returned as it is.
 */
export function multipartFailure(error: unknown): unknown {
  if (!(error instanceof Error) || error instanceof ReamError || 'code' in error || 'statusCode' in error) return error;
  if (!PARSER_MESSAGE.test(error.message)) return error;
  return ReamError.nonRetryable('validation_failed', `malformed multipart body: ${error.message}`, { cause: error });
}
