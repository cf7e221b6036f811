import type { ReamError } from '../errors.ts';
import type { RateOption } from './rate.ts';

export type { RateOption } from './rate.ts';

/** What an item function is told about the attempt it runs. */
export interface ItemContext {
  /**
   * Aborts when this attempt times out (`timeoutMs`) or the batch is cancelled (the batch's
   * `signal`, or a consumer leaving `processBatchStream` early). Pass it on to fetch, streams, …
   * The batch does not wait for a function that ignores it: the attempt fails at once.
   * With `timeoutMs` each attempt has a signal of its own; without, all attempts share the
   * batch's — so remove any listener you add to it yourself, as fetch and Node's APIs do.
   */
  readonly signal: AbortSignal;
  /** 1-based: 1 is the first try, 2 the first retry. */
  readonly attempt: number;
  /** The item's 0-based position in the input. */
  readonly index: number;
}

export type ItemFunction<T, R> = (item: T, context: ItemContext) => R | PromiseLike<R>;

export interface RetryOptions {
  /** Attempts per item, counting the first one; 1 disables retries. Default 3. */
  maxAttempts?: number;
  /** Ceiling of the delay after the first failure, in ms. Default 100. */
  baseDelayMs?: number;
  /** No retry delay is longer than this, in ms. Default 30,000. */
  maxDelayMs?: number;
  /** Growth of the delay ceiling per attempt. Default 2 (doubles). */
  factor?: number;
  /**
   * Decides, for an error that is not already known to be final, whether to try again; it gets
   * the error exactly as thrown. Never consulted for cancellations or a `ReamError` whose
   * `retryable` is false: those always fail at once. Default: retry.
   */
  retryable?: (error: unknown) => boolean;
  /** Source of jitter, returning a number in [0, 1). Default `Math.random`; inject it in tests. */
  random?: () => number;
}

/** A function from an item (and its position) to its stable checkpoint key. */
export type CheckpointKey<T> = (item: T, index: number) => string;

/**
 * Where finished items are remembered so a re-run skips them. `key` may be left out only when
 * the items are strings (paths, URLs, ids): then the item is its own key. Positions are never a
 * default key, because a re-run over an edited input would then skip the wrong items.
 */
export type CheckpointOptions<T> = {
  /**
   * A JSON-lines file (`{"key":…,"value":…}` per line), created if missing and appended to as
   * items succeed. Only successes are recorded: a failed item — even a non-retryable one — runs
   * again on the next run, which is usually made after fixing what made it fail. Values must
   * therefore be JSON-serialisable (an item whose value is not fails with `validation_failed`),
   * and a skipped item's value is what `JSON.parse` gives back (no Dates, Maps, `undefined`).
   * Writes are buffered (up to 100 ms) and not fsync'ed: a crash of the process loses at most
   * the last 100 ms of records — those items simply run again — and a line torn by a crash is
   * dropped on the next run. One batch at a time per file.
   */
  path: string;
} & ([T] extends [string]
  ? {
      /** The item's stable identity across runs. Default: the item itself. */
      key?: CheckpointKey<T>;
    }
  : {
      /** The item's stable identity across runs (e.g. a file path or a record id). Required. */
      key: CheckpointKey<T>;
    });

export interface BatchOptions<T, R> {
  /**
   * Items in flight at once. A sliding window: the next item starts the moment any running one
   * finishes, never in batches. An integer ≥ 1, or `Infinity`. Default 8.
   */
  concurrency?: number;
  /** Per-item retries with exponential backoff and full jitter. Defaults: see {@link RetryOptions}. */
  retry?: RetryOptions;
  /**
   * Limit of one attempt, in ms: its `signal` aborts and it fails with a retryable `timeout`
   * error. A function that ignores its signal keeps running in the background while its slot is
   * given to the next item. Default: none.
   */
  timeoutMs?: number;
  /**
   * Cancels the batch: running items' signals abort, no new item starts, and the batch
   * resolves with `cancelled: true`, running items (and items waiting for a retry) reported as
   * failed with code `cancelled`, and results already made kept. Items not started yet are not
   * reported — the input may be endless — and the input's `return()` is called, as `for … of`
   * does on `break`. Default: none.
   */
  signal?: AbortSignal;
  /**
   * Receives every {@link BatchEvent} synchronously, as it happens. A listener that throws (or
   * returns a rejected promise) does not affect the batch: the error becomes a process warning.
   */
  onEvent?: (event: BatchEvent<T, R>) => void;
  /** Remember finished items in a file so a re-run skips them. Default: off. */
  checkpoint?: CheckpointOptions<T>;
  /**
   * Most attempts started per second or per minute (`{ perSecond: 2 }`, `{ perMinute: 60 }`),
   * retries included, spaced evenly: for APIs that limit calls. An item waits for its start time
   * in its concurrency slot. Default: no limit.
   */
  rate?: RateOption;
}

interface ItemResultBase<T> {
  /** 0-based position in the input. */
  index: number;
  item: T;
  /** Attempts made: 0 for a skipped item. */
  attempts: number;
  /** From the first attempt's start to the final outcome, retry delays included, in ms. */
  durationMs: number;
}

export interface SucceededItem<T, R> extends ItemResultBase<T> {
  status: 'succeeded';
  value: R;
  error?: undefined;
}

export interface FailedItem<T> extends ItemResultBase<T> {
  status: 'failed';
  value?: undefined;
  /** Why; code `cancelled` when the batch was cancelled while the item ran. */
  error: ReamError;
}

/** An item found in the checkpoint file: not run again; `value` is the stored one. */
export interface SkippedItem<T, R> extends ItemResultBase<T> {
  status: 'skipped';
  value: R;
  error?: undefined;
}

export type ItemResult<T, R> = SucceededItem<T, R> | FailedItem<T> | SkippedItem<T, R>;

export interface BatchSummary {
  succeeded: number;
  /** Failed items, cancelled ones included. */
  failed: number;
  skipped: number;
  /** True when the batch was cancelled before every item was done. */
  cancelled: boolean;
  /** Wall time of the whole batch, in ms. */
  durationMs: number;
}

export interface BatchResult<T, R> extends BatchSummary {
  /** One result per item pulled from the input, in input order. */
  results: ItemResult<T, R>[];
}

/** Progress of a batch, discriminated on `type`, in the order things happen. */
export type BatchEvent<T, R> =
  | { type: 'batch.started'; concurrency: number }
  | { type: 'item.started'; index: number; item: T }
  /** Attempt `attempt` failed with `error`; the next one starts after `delayMs`. */
  | { type: 'item.retrying'; index: number; item: T; attempt: number; delayMs: number; error: ReamError }
  | { type: 'item.succeeded'; result: SucceededItem<T, R> }
  | { type: 'item.failed'; result: FailedItem<T> }
  /** Found in the checkpoint file, not run. */
  | { type: 'item.skipped'; result: SkippedItem<T, R> }
  | { type: 'batch.completed'; summary: BatchSummary };
