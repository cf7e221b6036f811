export { processBatch } from './process-batch.ts';
export { processBatchStream } from './process-batch-stream.ts';
export { backoffDelay, type BackoffPolicy } from './backoff.ts';
export { NonRetryableError, type NonRetryableErrorOptions } from './non-retryable-error.ts';
export { DEFAULT_CONCURRENCY, DEFAULT_RETRY } from './settings.ts';
export type { BatchInput } from './source.ts';
export type {
  BatchEvent,
  BatchOptions,
  BatchResult,
  BatchSummary,
  CheckpointKey,
  CheckpointOptions,
  FailedItem,
  ItemContext,
  ItemFunction,
  ItemResult,
  RetryOptions,
  SkippedItem,
  SucceededItem,
} from './types.ts';
