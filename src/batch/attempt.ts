import { ReamError } from '../errors.ts';
import type { Abortable, AbortScope } from './abort-scope.ts';
import type { ItemContext, ItemFunction } from './types.ts';

export function isThenable<R>(value: R | PromiseLike<R>): value is PromiseLike<R> {
  return typeof (value as PromiseLike<R> | null)?.then === 'function';
}

/**
 * Runs one attempt of `fn`. It ends at the first of: `fn` settles, its timeout fires, the batch
 * stops. An aborted attempt fails with the abort's reason (`timeout` or `cancelled`) whatever
 * the function threw or still does: the race means a function that ignores its signal cannot
 * hold the batch.
 */
export function runAttempt<T, R>(
  fn: ItemFunction<T, R>,
  item: T,
  index: number,
  attempt: number,
  timeoutMs: number | undefined,
  scope: AbortScope,
): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    // Only a timeout is particular to one attempt; without one the batch's signal says it all.
    const controller = timeoutMs === undefined ? undefined : new AbortController();
    let abortedBy: ReamError | undefined;
    let timer: NodeJS.Timeout | undefined;
    const done = (): void => {
      clearTimeout(timer);
      scope.close(inFlight);
    };
    const inFlight: Abortable = {
      abort(reason) {
        if (abortedBy) return;
        abortedBy = reason;
        done();
        controller?.abort(reason);
        reject(reason);
      },
    };
    scope.open(inFlight); // throws (so rejects) if the batch already stopped
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => {
        inFlight.abort(new ReamError('timeout', `attempt ${attempt} of item ${index} timed out after ${timeoutMs} ms`, { details: { index, attempt, timeoutMs } }));
      }, timeoutMs);
    }
    // A plain object (not a class with getters) so that spreading it keeps `signal`.
    const context: ItemContext = { signal: controller?.signal ?? scope.signal, attempt, index };
    let output: R | PromiseLike<R>;
    try {
      output = fn(item, context);
    } catch (error) {
      done();
      reject(abortedBy ?? (error as Error));
      return;
    }
    if (!isThenable(output)) {
      done();
      if (abortedBy) reject(abortedBy);
      else resolve(output);
      return;
    }
    output.then(
      (value) => {
        done();
        resolve(value); // a no-op if the attempt was aborted first
      },
      (error: unknown) => {
        done();
        // The item's own error, passed on as thrown: `retry.retryable` sees it unchanged.
        reject(abortedBy ?? (error as Error));
      },
    );
  });
}
