import { ReamError } from '../errors.ts';
import { BatchRunner } from './runner.ts';
import { resolveSettings, type BatchSettings } from './settings.ts';
import type { BatchInput } from './source.ts';
import type { BatchOptions, ItemFunction, ItemResult } from './types.ts';

/**
 * `processBatch` as an async iterator: yields each item's result as soon as it is made
 * (completion order; `result.index` gives the input position). Same options and semantics.
 *
 * Nothing runs until the first `next()`. Leaving the loop early (`break`, `return`, a throw)
 * stops starting items, aborts running ones and waits for them to settle, so no work outlives
 * the loop. At most `concurrency` results wait for a slow consumer; beyond that the batch pauses
 * instead of buffering without bound. When `signal` aborts, the cancelled items are yielded and
 * the iteration ends normally; the iterator throws only where `processBatch` would reject.
 * Options are checked at the call, which throws `validation_failed`.
 */
export function processBatchStream<T, R>(
  items: BatchInput<T>,
  fn: ItemFunction<T, R>,
  options: BatchOptions<T, R> = {},
): AsyncGenerator<ItemResult<T, R>, void, undefined> {
  return stream(items, fn, resolveSettings(options, fn));
}

async function* stream<T, R>(items: BatchInput<T>, fn: ItemFunction<T, R>, settings: BatchSettings<T, R>): AsyncGenerator<ItemResult<T, R>, void, undefined> {
  const buffer: ItemResult<T, R>[] = [];
  let wake: (() => void) | undefined;
  let ended = false;
  const runner = new BatchRunner(
    items,
    fn,
    settings,
    (result) => {
      buffer.push(result);
      wake?.();
    },
    () => buffer.length < settings.concurrency,
  );
  const onEnd = (): void => {
    ended = true;
    wake?.();
  };
  runner.done.then(onEnd, onEnd);
  runner.start();
  try {
    for (;;) {
      const result = buffer.shift();
      if (result) {
        runner.pump(); // the buffer has room again
        yield result;
      } else if (ended) {
        break;
      } else {
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    }
    await runner.done; // rethrows what broke the batch
  } finally {
    if (!ended) {
      runner.stop(new ReamError('cancelled', 'the consumer stopped reading the results'));
      // Wait for aborted items to settle (and the checkpoint to be flushed): nothing outlives the loop.
      await runner.done.catch(() => {});
    }
  }
}
