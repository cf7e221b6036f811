import { ReamError } from '../errors.ts';
import type { BackoffPolicy } from './backoff.ts';
import { RateGate } from './rate.ts';
import type { BatchEvent, BatchOptions, CheckpointKey } from './types.ts';

export const DEFAULT_CONCURRENCY = 8;
export const DEFAULT_RETRY = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 30_000, factor: 2 } as const;
/** setTimeout fires at once for longer delays (they overflow a 32-bit int), so refuse them. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface RetrySettings extends BackoffPolicy {
  maxAttempts: number;
  retryable: ((error: unknown) => boolean) | undefined;
  random: () => number;
}

/** Options with defaults applied and checked once, so the per-item path does no checking. */
export interface BatchSettings<T, R> {
  concurrency: number;
  retry: RetrySettings;
  timeoutMs: number | undefined;
  signal: AbortSignal | undefined;
  onEvent: ((event: BatchEvent<T, R>) => void) | undefined;
  checkpoint: { path: string; key: CheckpointKey<T> | undefined } | undefined;
  rate: RateGate | undefined;
}

function invalid(message: string): ReamError {
  return ReamError.nonRetryable('validation_failed', `processBatch: ${message}`);
}

function check(ok: boolean, message: string): void {
  if (!ok) throw invalid(message);
}

function isDelay(value: number, max = MAX_TIMER_MS): boolean {
  return Number.isFinite(value) && value >= 0 && value <= max;
}

const OPTION_KEYS = ['concurrency', 'retry', 'timeoutMs', 'signal', 'onEvent', 'checkpoint', 'rate'];
const RETRY_KEYS = ['maxAttempts', 'baseDelayMs', 'maxDelayMs', 'factor', 'retryable', 'random'];
const CHECKPOINT_KEYS = ['path', 'key'];
const RATE_KEYS = ['perSecond', 'perMinute'];

/**
 * Refuses what is not an object of the known keys: a typo (`concurency`) would otherwise be
 * ignored without a word, and a batch would run with defaults its caller did not mean.
 */
function checkObject(value: unknown, what: string, keys: readonly string[]): void {
  check(typeof value === 'object' && value !== null && !Array.isArray(value), `${what} must be an object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`);
  const unknown = Object.keys(value as object).filter((key) => !keys.includes(key));
  check(unknown.length === 0, `unknown ${what === 'options' ? 'option' : `${what} option`} ${unknown.map((key) => `"${key}"`).join(', ')} (known: ${keys.join(', ')})`);
}

function checkFunction(value: unknown, what: string): void {
  check(value === undefined || typeof value === 'function', `${what} must be a function, got ${typeof value}`);
}

/** Applies defaults and refuses impossible options (and an `fn` that is no function) with `validation_failed`. */
export function resolveSettings<T, R>(options: BatchOptions<T, R>, fn: unknown): BatchSettings<T, R> {
  check(typeof fn === 'function', `fn must be a function (item, context) => result, got ${typeof fn}`);
  checkObject(options, 'options', OPTION_KEYS);
  if (options.retry !== undefined) checkObject(options.retry, 'retry', RETRY_KEYS);
  if (options.checkpoint !== undefined) checkObject(options.checkpoint, 'checkpoint', CHECKPOINT_KEYS);
  if (options.rate !== undefined) checkObject(options.rate, 'rate', RATE_KEYS);
  checkFunction(options.retry?.retryable, 'retry.retryable');
  checkFunction(options.retry?.random, 'retry.random');
  checkFunction(options.checkpoint?.key, 'checkpoint.key');
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;
  check(concurrency === Infinity || (Number.isInteger(concurrency) && concurrency >= 1), `concurrency must be an integer ≥ 1 or Infinity, got ${concurrency}`);

  const retry = options.retry ?? {};
  const maxAttempts = retry.maxAttempts ?? DEFAULT_RETRY.maxAttempts;
  const baseDelayMs = retry.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs;
  const maxDelayMs = retry.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs;
  const factor = retry.factor ?? DEFAULT_RETRY.factor;
  check(Number.isInteger(maxAttempts) && maxAttempts >= 1, `retry.maxAttempts must be an integer ≥ 1, got ${maxAttempts}`);
  check(isDelay(baseDelayMs), `retry.baseDelayMs must be between 0 and ${MAX_TIMER_MS} ms, got ${baseDelayMs}`);
  check(isDelay(maxDelayMs), `retry.maxDelayMs must be between 0 and ${MAX_TIMER_MS} ms, got ${maxDelayMs}`);
  check(Number.isFinite(factor) && factor >= 1, `retry.factor must be a number ≥ 1, got ${factor}`);

  const timeoutMs = options.timeoutMs;
  check(timeoutMs === undefined || (isDelay(timeoutMs) && timeoutMs > 0), `timeoutMs must be between 1 and ${MAX_TIMER_MS} ms, got ${timeoutMs}`);

  const checkpoint = options.checkpoint;
  check(checkpoint === undefined || (typeof checkpoint.path === 'string' && checkpoint.path !== ''), 'checkpoint.path must be a non-empty string');

  const rate = options.rate;
  if (rate !== undefined) {
    const value = rate.perSecond ?? rate.perMinute;
    const both = rate.perSecond !== undefined && rate.perMinute !== undefined;
    check(!both && typeof value === 'number' && Number.isFinite(value) && value > 0, 'rate must be { perSecond: n } or { perMinute: n } with n > 0');
    const intervalMs = rate.perSecond !== undefined ? 1000 / rate.perSecond : 60_000 / (rate.perMinute ?? 1);
    check(intervalMs <= MAX_TIMER_MS, `rate is too slow: one start every ${intervalMs} ms, more than a timer's ${MAX_TIMER_MS} ms`);
  }
  check(options.signal === undefined || options.signal instanceof AbortSignal, 'signal must be an AbortSignal');
  check(options.onEvent === undefined || typeof options.onEvent === 'function', 'onEvent must be a function');

  return {
    rate: rate && RateGate.of(rate),
    concurrency,
    retry: { maxAttempts, baseDelayMs, maxDelayMs, factor, retryable: retry.retryable, random: retry.random ?? Math.random },
    timeoutMs,
    signal: options.signal,
    onEvent: options.onEvent,
    checkpoint: checkpoint && { path: checkpoint.path, key: checkpoint.key },
  };
}
