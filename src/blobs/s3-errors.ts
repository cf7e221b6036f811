import { ReamError } from '../errors.ts';

/** The parts of an AWS SDK error (S3ServiceException) or a socket error that say what went wrong. */
interface S3Failure {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

const MISSING = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload']);
const REFUSED = new Set(['AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'Forbidden', 'ExpiredToken', 'InvalidToken']);
const NETWORK = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'TimeoutError']);

/** The HTTP status of an S3 reply, if the error came from one. */
export function s3Status(error: unknown): number | undefined {
  const status = (error as S3Failure | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

/** True when S3 answered that the object (or upload) does not exist. */
export function isS3Missing(error: unknown): boolean {
  const name = (error as S3Failure | null)?.name;
  return (typeof name === 'string' && MISSING.has(name)) || s3Status(error) === 404;
}

/**
 * Turns an S3 or network failure into a ReamError whose message names the operation, bucket and
 * key — never the endpoint's credentials, which the SDK does not put in its errors either.
 * An endpoint that does not answer is `unavailable`, other server-side failures (5xx, throttling)
 * retryable `io_error`s; refusals that retrying cannot fix (credentials, missing bucket) are not.
 */
export function s3Error(error: unknown, operation: string, where: string): ReamError {
  if (error instanceof ReamError) return error;
  const failure = (error ?? {}) as S3Failure;
  const name = typeof failure.name === 'string' ? failure.name : '';
  const code = typeof failure.code === 'string' ? failure.code : '';
  const status = s3Status(error);
  const label = name === '' || name === 'Error' ? code || 'error' : name;
  if (isS3Missing(error)) return ReamError.nonRetryable('not_found', `S3 ${operation} of ${where}: not found`, { cause: error });
  if (name === 'NoSuchBucket') return ReamError.nonRetryable('io_error', `S3 ${operation} of ${where}: the bucket does not exist`, { cause: error });
  if (REFUSED.has(name) || status === 403) {
    return ReamError.nonRetryable('io_error', `S3 ${operation} of ${where}: access refused (${label}); check the credentials and the bucket policy`, { cause: error });
  }
  if (name === 'InvalidRange' || status === 416) return ReamError.nonRetryable('validation_failed', `S3 ${operation} of ${where}: the range is outside the object`, { cause: error });
  if (NETWORK.has(code) || NETWORK.has(name)) {
    // The service is down or unreachable, not the request wrong: over HTTP a 503, try later.
    return ReamError.retryable('unavailable', `S3 ${operation} of ${where}: the endpoint did not answer (${label})`, { cause: error });
  }
  return ReamError.retryable('io_error', `S3 ${operation} of ${where} failed (${label}${status === undefined ? '' : `, HTTP ${status}`})`, { cause: error });
}
