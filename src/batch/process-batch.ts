import { BatchRunner } from './runner.ts';
import { resolveSettings } from './settings.ts';
import type { BatchInput } from './source.ts';
import type { BatchOptions, BatchResult, ItemFunction, ItemResult } from './types.ts';

/**
 * Runs `fn` over every item with at most `concurrency` in flight (a sliding window), retrying
 * failures with backoff, and resolves with one result per item, in input order.
 *
 * Items are pulled lazily, one per free slot: an async generator of a million items is fine;
 * only the running items and the results are held. A failed item does not fail the batch.
 *
 * Resolves — also when `signal` aborts: then with `cancelled: true`, the items that were running
 * reported as failed with code `cancelled`, and everything finished before kept. Rejects only
 * when the batch itself cannot go on: invalid options (`validation_failed`), the input throwing,
 * or the checkpoint file unreadable or unwritable (`io_error`); running items are aborted first.
 *
 * @example
 * const { results, failed } = await processBatch(paths, (path, { signal }) => upload(path, signal), {
 *   concurrency: 16, timeoutMs: 30_000, checkpoint: { path: 'uploads.checkpoint' },
 * });
 */
export async function processBatch<T, R>(
  items: BatchInput<T>,
  fn: ItemFunction<T, R>,
  options: BatchOptions<T, R> = {},
): Promise<BatchResult<T, R>> {
  const settings = resolveSettings(options, fn);
  // Results land at their input position as they complete; every pulled item gets one, so the
  // array has no holes by the time the batch is done.
  const results: ItemResult<T, R>[] = [];
  const runner = new BatchRunner(items, fn, settings, (result) => {
    results[result.index] = result;
  });
  runner.start();
  const summary = await runner.done;
  return { results, ...summary };
}
