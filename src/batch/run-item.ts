import { ReamError } from '../errors.ts';
import type { AbortScope } from './abort-scope.ts';
import { runAttempt } from './attempt.ts';
import { retryDelay } from './backoff.ts';
import { isRetryable, toItemError } from './classify.ts';
import type { Emit } from './events.ts';
import type { BatchSettings } from './settings.ts';
import type { FailedItem, ItemFunction, ItemResult } from './types.ts';

export interface ItemRun<T, R> {
  fn: ItemFunction<T, R>;
  settings: BatchSettings<T, R>;
  scope: AbortScope;
  emit: Emit<T, R>;
}

/**
 * Runs one item to its final outcome — attempts, retry delays, timeouts — and hands it to
 * `onDone`, exactly once. Every way an item can end is a result, so one item cannot take the
 * batch down.
 *
 * The first attempt's success goes straight to `onDone` in the attempt's own callback, not
 * through an `async` function: each `await` on the way is a microtask between a slot freeing
 * and the next item starting, and in the scheduling benchmark those few microseconds per item
 * decide whether a timer lands in this millisecond or the next.
 */
export function runItem<T, R>(run: ItemRun<T, R>, item: T, index: number, onDone: (result: ItemResult<T, R>) => void): void {
  const startedAt = performance.now();
  const wait = run.settings.rate?.reserve() ?? 0;
  if (wait > 0) {
    // Rate-limited: the first attempt waits for its start time (in its slot, abortable).
    run.scope.sleep(wait).then(
      () => firstAttempt(run, item, index, startedAt, onDone),
      (reason: unknown) => onDone(failed(item, index, toItemError(reason), 0, startedAt)),
    );
    return;
  }
  firstAttempt(run, item, index, startedAt, onDone);
}

function firstAttempt<T, R>(run: ItemRun<T, R>, item: T, index: number, startedAt: number, onDone: (result: ItemResult<T, R>) => void): void {
  runAttempt(run.fn, item, index, 1, run.settings.timeoutMs, run.scope).then(
    (value) => onDone({ index, item, status: 'succeeded', value, attempts: 1, durationMs: performance.now() - startedAt }),
    (error: unknown) => {
      retry(run, item, index, startedAt, error).then(onDone, (bug: unknown) => onDone(failed(item, index, toItemError(bug), 1, startedAt)));
    },
  );
}

/** What follows a failed first attempt: more attempts after backoff delays, while allowed. */
async function retry<T, R>(run: ItemRun<T, R>, item: T, index: number, startedAt: number, firstError: unknown): Promise<ItemResult<T, R>> {
  const { fn, settings, scope, emit } = run;
  const { retry } = settings;
  let raw = firstError;
  for (let attempt = 1; ; attempt++) {
    const error = toItemError(raw);
    if (attempt >= retry.maxAttempts || !isRetryable(raw, error, retry)) return failed(item, index, error, attempt, startedAt);
    if (scope.reason) return failed(item, index, cancelledAfter(scope.reason, error), attempt, startedAt);
    const delayMs = retryDelay(attempt, error, retry, retry.random);
    emit?.({ type: 'item.retrying', index, item, attempt, delayMs, error });
    try {
      await scope.sleep(delayMs);
      const wait = settings.rate?.reserve() ?? 0;
      if (wait > 0) await scope.sleep(wait);
    } catch (reason) {
      return failed(item, index, cancelledAfter(reason as ReamError, error), attempt, startedAt);
    }
    try {
      const value = await runAttempt(fn, item, index, attempt + 1, settings.timeoutMs, scope);
      return { index, item, status: 'succeeded', value, attempts: attempt + 1, durationMs: performance.now() - startedAt };
    } catch (next) {
      raw = next;
    }
  }
}

function failed<T>(item: T, index: number, error: ReamError, attempts: number, startedAt: number): FailedItem<T> {
  return { index, item, status: 'failed', error, attempts, durationMs: performance.now() - startedAt };
}

/** The batch stopped while the item waited for a retry: report the cancellation, keep the failure. */
function cancelledAfter(reason: ReamError, lastError: ReamError): ReamError {
  return new ReamError(reason.code, `${reason.message} (before retrying: ${lastError.message})`, { cause: lastError, retryable: false });
}
