import type { ErrorCode } from '../errors.ts';

export interface NonRetryableErrorOptions {
  cause?: unknown;
  /** The code the item's failure is reported with. Default `internal`. */
  code?: ErrorCode;
}

/**
 * Throw this from a batch item function to fail the item at once, without spending its retry
 * budget: for input that will not get better by trying again (a malformed record, a 404).
 * `ReamError.nonRetryable(code, …)` does the same and also names the failure's code.
 */
export class NonRetryableError extends Error {
  override readonly name = 'NonRetryableError';
  readonly code: ErrorCode;

  constructor(message: string, options: NonRetryableErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = options.code ?? 'internal';
  }
}
