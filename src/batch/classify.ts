import { toReamError, type ReamError } from '../errors.ts';
import type { RetrySettings } from './settings.ts';

/** What an item's failure is reported as: always a `ReamError` (anything else becomes one, with the original as `cause`). */
export function toItemError(error: unknown): ReamError {
  return toReamError(error);
}

/**
 * Whether a failed attempt may be tried again (attempts left aside). Cancellations and errors
 * known to be final (a `ReamError` with `retryable: false`) never are; for
 * the rest the caller's `retryable` decides, and without one they are retried.
 */
export function isRetryable(raw: unknown, error: ReamError, retry: RetrySettings): boolean {
  if (error.code === 'cancelled' || !error.retryable) return false;
  if (retry.retryable === undefined) return true;
  try {
    return retry.retryable(raw);
  } catch {
    return false; // a broken predicate must not turn into an endless or unhandled failure
  }
}
