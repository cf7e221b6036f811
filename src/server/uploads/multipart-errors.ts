import { ReamError } from '../../errors.ts';
import { MAX_FILE_NAME_BYTES } from './file-name.ts';

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

/**
 * Longest multipart `filename` taken (then cut to {@link MAX_FILE_NAME_BYTES}), in bytes. The
 * multipart parser keeps at most {@link MULTIPART_HEADER_BYTES} of a part's headers and drops the
 * rest without a word: a longer name arrived cut, its extension (and the part's Content-Type
 * after it) lost. A name well under that is known whole; one past it may not be, so it is refused.
 */
export const MAX_MULTIPART_FILE_NAME_BYTES = 64 * 1024;

/**
 * The part headers the multipart parser reads (its `headerSize`; busboy's default is 80 KB). A
 * name sent percent-encoded (`filename*=UTF-8''%6E…`, RFC 5987) takes 3 bytes of header a byte:
 * at 80 KB one was cut to about 26 KB decoded, under {@link MAX_MULTIPART_FILE_NAME_BYTES}, and
 * stored without its extension. Room for the longest name taken in that form, and its other
 * headers: one cut here decodes to over the bound in either form.
 */
export const MULTIPART_HEADER_BYTES = 4 * MAX_MULTIPART_FILE_NAME_BYTES;

/**
 * `validation_failed` for a multipart file name longer than {@link MAX_MULTIPART_FILE_NAME_BYTES}
 * (the parser may have cut it: what it would be named is unknown), else undefined.
 */
export function multipartFileNameRefusal(raw: string | null | undefined): ReamError | undefined {
  const bytes = Buffer.byteLength(raw ?? '');
  if (bytes <= MAX_MULTIPART_FILE_NAME_BYTES) return undefined;
  return ReamError.nonRetryable(
    'validation_failed',
    `file name of ${bytes} bytes is too long: a multipart filename may have ${MAX_MULTIPART_FILE_NAME_BYTES} bytes at most (names over ${MAX_FILE_NAME_BYTES} are cut to ${MAX_FILE_NAME_BYTES}, extension kept); send it with a shorter name, or through tus`,
  );
}
