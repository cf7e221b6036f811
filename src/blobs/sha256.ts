import { ReamError } from '../errors.ts';

const SHA256 = /^[0-9a-f]{64}$/;

/**
 * Checks that `value` is a sha256 in lower-case hex (upper case is accepted and lowered). Blob
 * addresses become file paths and object keys, so this runs on every call: with only 64 hex
 * characters allowed, no `..`, slash or NUL can reach a path.
 */
export function checkSha256(value: string): string {
  const lower = typeof value === 'string' ? value.toLowerCase() : '';
  if (!SHA256.test(lower)) throw ReamError.nonRetryable('validation_failed', 'a blob address must be a sha256 in hex (64 characters)');
  return lower;
}
