export { processBatch } from './process-batch.ts';
export { processBatchStream } from './process-batch-stream.ts';
export { backoffDelay, retryDelay, type BackoffPolicy } from './backoff.ts';
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
