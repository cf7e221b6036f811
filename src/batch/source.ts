import { ReamError } from '../errors.ts';

export type BatchInput<T> = Iterable<T> | AsyncIterable<T>;

/** The input, pulled one item at a time; sync iterators are kept sync to save a tick per item. */
export type Source<T> = { async: false; iterator: Iterator<T> } | { async: true; iterator: AsyncIterator<T> };

export function openSource<T>(items: BatchInput<T>): Source<T> {
  const candidate = items as Partial<AsyncIterable<T> & Iterable<T>> | null | undefined;
  if (typeof candidate?.[Symbol.asyncIterator] === 'function') {
    return { async: true, iterator: (items as AsyncIterable<T>)[Symbol.asyncIterator]() };
  }
  if (typeof candidate?.[Symbol.iterator] === 'function') {
    return { async: false, iterator: (items as Iterable<T>)[Symbol.iterator]() };
  }
  throw ReamError.nonRetryable('validation_failed', 'processBatch: items must be an Iterable or an AsyncIterable');
}

/**
 * Lets the source clean up (a generator's `finally`) when the batch stops before the end, as
 * `for … of` does on `break`. Its own failure to clean up cannot change the batch's outcome.
 */
export async function closeSource<T>(source: Source<T>): Promise<void> {
  try {
    await source.iterator.return?.();
  } catch {
    // ignored on purpose: see above
  }
}

/** An error thrown by the input itself (not by an item): it ends the batch. */
export function sourceError(error: unknown): ReamError {
  if (error instanceof ReamError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ReamError('internal', `processBatch: reading the items failed: ${message}`, { cause: error });
}
