import { ReamError, toReamError } from '../errors.ts';
import { AbortScope } from './abort-scope.ts';
import { openCheckpoint, type CheckpointWriter } from './checkpoint.ts';
import { eventEmitter, type Emit } from './events.ts';
import { runItem, type ItemRun } from './run-item.ts';
import type { BatchSettings } from './settings.ts';
import { closeSource, openSource, sourceError, type BatchInput, type Source } from './source.ts';
import type { BatchSummary, FailedItem, ItemFunction, ItemResult } from './types.ts';

/**
 * The one engine behind `processBatch` and `processBatchStream`: pulls items lazily, keeps at
 * most `concurrency` running, and hands every result to `onResult` as it is made.
 *
 * The invariant that makes it a sliding window: a finished item's slot is refilled in the same
 * callback that records its result — no await, no timer, no waiting for siblings in between.
 *
 * Outcomes: `done` resolves with the summary when every started item has a result (after a
 * cancellation too), and rejects only when the batch itself broke: the input threw, or the
 * checkpoint file could not be read or written.
 */
export class BatchRunner<T, R> {
  readonly done: Promise<BatchSummary>;
  readonly #resolve: (summary: BatchSummary) => void;
  readonly #reject: (error: ReamError) => void;
  readonly #items: BatchInput<T>;
  readonly #settings: BatchSettings<T, R>;
  readonly #onResult: (result: ItemResult<T, R>) => void;
  readonly #canStart: () => boolean;
  readonly #scope = new AbortScope();
  readonly #emit: Emit<T, R>;
  readonly #run: ItemRun<T, R>;
  readonly #counts = { succeeded: 0, failed: 0, skipped: 0 };
  #source: Source<T> | undefined;
  #pendingPull: Promise<unknown> | undefined;
  #writer: CheckpointWriter | undefined;
  /** Keys an earlier run finished, with their values (from the checkpoint file). */
  #finished = new Map<string, unknown>();
  #exhausted = false;
  #sourceBroken = false;
  #started = false;
  #finishing = false;
  #fatal: ReamError | undefined;
  #running = 0;
  #nextIndex = 0;
  #startedAt = 0;
  /** Results made since the event loop last had a turn (see {@link MAX_RESULTS_PER_TURN}). */
  #resultsThisTurn = 0;

  /**
   * @param onResult gets every result once, in completion order.
   * @param canStart backpressure: while it returns false no new item is pulled; call `pump()`
   *   when it may have turned true.
   */
  constructor(
    items: BatchInput<T>,
    fn: ItemFunction<T, R>,
    settings: BatchSettings<T, R>,
    onResult: (result: ItemResult<T, R>) => void,
    canStart: () => boolean = () => true,
  ) {
    const { promise, resolve, reject } = Promise.withResolvers<BatchSummary>();
    this.done = promise;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#items = items;
    this.#settings = settings;
    this.#onResult = onResult;
    this.#canStart = canStart;
    this.#emit = eventEmitter(settings.onEvent);
    this.#run = { fn, settings, scope: this.#scope, emit: this.#emit };
  }

  start(): void {
    this.#startedAt = performance.now();
    this.#emit?.({ type: 'batch.started', concurrency: this.#settings.concurrency });
    const { signal, checkpoint } = this.#settings;
    // Everything is set up before the batch may finish (a stop or a failure below only takes
    // effect at the pump), so the finish always finds — and closes — what was opened.
    signal?.addEventListener('abort', this.#onAbort, { once: true });
    try {
      this.#source = openSource(this.#items);
      if (checkpoint) {
        const { done, writer } = openCheckpoint(checkpoint.path);
        this.#finished = done;
        this.#writer = writer;
        writer.onError = (error) => this.#fail(error);
      }
    } catch (error) {
      this.#fail(error);
    }
    if (signal?.aborted) this.#onAbort();
    this.#started = true;
    this.pump();
  }

  /** Stops starting items and aborts running ones; `done` then resolves with `cancelled: true`. */
  stop(reason: ReamError): void {
    if (this.#finishing) return;
    this.#scope.stop(reason);
    this.#maybeFinish();
  }

  readonly #onAbort = (): void => {
    this.stop(new ReamError('cancelled', 'batch cancelled', { cause: this.#settings.signal?.reason }));
  };

  /** Starts items while there is room. Cheap to call at any time. */
  pump(): void {
    if (!this.#started || this.#finishing) return;
    const source = this.#source;
    const { concurrency } = this.#settings;
    while (
      source && !this.#pendingPull && !this.#exhausted && !this.#scope.reason && this.#running < concurrency &&
      this.#resultsThisTurn < MAX_RESULTS_PER_TURN && this.#canStart()
    ) {
      if (source.async) {
        this.#pullAsync(source.iterator);
        break;
      }
      let step: IteratorResult<T>;
      try {
        step = source.iterator.next();
      } catch (error) {
        this.#sourceBroken = true;
        this.#fail(sourceError(error));
        return;
      }
      this.#take(step);
    }
    this.#maybeFinish();
  }

  #pullAsync(iterator: AsyncIterator<T>): void {
    let pull: Promise<IteratorResult<T>>;
    try {
      pull = iterator.next();
    } catch (error) {
      this.#sourceBroken = true;
      this.#fail(sourceError(error));
      return;
    }
    this.#pendingPull = pull;
    pull.then(
      (step) => {
        this.#pendingPull = undefined;
        if (this.#finishing) return; // a late pull after a cancellation: dropped, never started
        this.#take(step);
        this.pump();
      },
      (error: unknown) => {
        this.#pendingPull = undefined;
        this.#sourceBroken = true;
        this.#fail(sourceError(error));
      },
    );
  }

  /** Starts, skips or fails one pulled item. */
  #take(step: IteratorResult<T>): void {
    if (step.done) {
      this.#exhausted = true;
      return;
    }
    if (this.#scope.reason) return; // pulled while stopping: never started, so not reported
    const item = step.value;
    const index = this.#nextIndex++;
    const checkpoint = this.#settings.checkpoint;
    if (!checkpoint) {
      this.#start(item, index, undefined);
      return;
    }
    let key: string;
    if (checkpoint.key) {
      try {
        key = checkpoint.key(item, index);
      } catch (error) {
        this.#report(failure(item, index, toReamError(error), 0, 0));
        return;
      }
      // A mistake in the call, like a missing key function: a number written as a key would
      // make the checkpoint file unreadable on the next run.
      if (typeof key !== 'string') {
        this.#fail(ReamError.nonRetryable('validation_failed', `processBatch: checkpoint.key must return a string, got ${typeof key}`));
        return;
      }
    } else if (typeof item === 'string') {
      key = item;
    } else {
      // A missing key function is a mistake in the call, not in this item: stop the batch.
      this.#fail(ReamError.nonRetryable('validation_failed', 'processBatch: checkpoint.key is required when items are not strings'));
      return;
    }
    if (this.#finished.has(key)) {
      const value = this.#finished.get(key) as R;
      this.#report({ index, item, status: 'skipped', value, attempts: 0, durationMs: 0 });
      return;
    }
    this.#start(item, index, key);
  }

  #start(item: T, index: number, key: string | undefined): void {
    this.#running++;
    this.#emit?.({ type: 'item.started', index, item });
    runItem(this.#run, item, index, (result) => this.#settle(result, key));
  }

  #settle(result: ItemResult<T, R>, key: string | undefined): void {
    this.#running--;
    let final = result;
    if (result.status === 'succeeded' && this.#writer && key !== undefined) {
      try {
        this.#writer.append(key, result.value);
      } catch (error) {
        final = failure(result.item, result.index, toReamError(error), result.attempts, result.durationMs);
      }
    }
    this.#report(final);
    this.pump();
  }

  #report(result: ItemResult<T, R>): void {
    if (this.#resultsThisTurn++ === 0) {
      // The first result of a turn books the end of the turn: from there the pump resumes if it
      // paused for MAX_RESULTS_PER_TURN (and does nothing otherwise).
      setImmediate(() => {
        this.#resultsThisTurn = 0;
        this.pump();
      });
    }
    this.#counts[result.status]++;
    switch (result.status) {
      case 'succeeded':
        this.#emit?.({ type: 'item.succeeded', result });
        break;
      case 'failed':
        this.#emit?.({ type: 'item.failed', result });
        break;
      case 'skipped':
        this.#emit?.({ type: 'item.skipped', result });
        break;
    }
    this.#onResult(result);
  }

  /** The batch itself broke: stop everything and reject `done` once running items settled. */
  #fail(error: unknown): void {
    if (this.#fatal || this.#finishing) return;
    this.#fatal = toReamError(error);
    this.#scope.stop(new ReamError('cancelled', `batch stopped: ${this.#fatal.message}`, { cause: this.#fatal }));
    this.#maybeFinish();
  }

  #maybeFinish(): void {
    if (!this.#started || this.#finishing || this.#running > 0) return;
    if (!this.#scope.reason && !this.#exhausted) return; // more to pull, or paused by backpressure
    this.#finishing = true;
    this.#finish().catch((error: unknown) => this.#reject(toReamError(error)));
  }

  async #finish(): Promise<void> {
    this.#settings.signal?.removeEventListener('abort', this.#onAbort);
    let fatal = this.#fatal;
    try {
      await this.#writer?.close();
    } catch (error) {
      fatal ??= toReamError(error);
    }
    const source = this.#source;
    if (source && !this.#exhausted && !this.#sourceBroken) {
      // A pull may be stuck (a queue waiting for input): close the source once it settles, but
      // do not make the batch wait for it.
      if (this.#pendingPull) void this.#pendingPull.then(() => closeSource(source), () => closeSource(source));
      else await closeSource(source);
    }
    if (fatal) {
      this.#reject(fatal);
      return;
    }
    const summary: BatchSummary = { ...this.#counts, cancelled: this.#scope.reason !== undefined, durationMs: performance.now() - this.#startedAt };
    this.#emit?.({ type: 'batch.completed', summary });
    this.#resolve(summary);
  }
}

/**
 * Items whose functions settle without touching the event loop (sync functions, cached values,
 * skips on a re-run) would otherwise run back to back in microtasks, starving timers and I/O —
 * an `abort()` from a timer could not land until the whole batch was done. After this many
 * results in one turn the batch lets the event loop go round once (a `setImmediate`). Real I/O
 * never gets near it: there each turn brings a handful of results.
 */
const MAX_RESULTS_PER_TURN = 1_000;

function failure<T>(item: T, index: number, error: ReamError, attempts: number, durationMs: number): FailedItem<T> {
  return { index, item, status: 'failed', error, attempts, durationMs };
}
