import { ReamError } from '../errors.ts';

/** How retry delays grow. Shared by `processBatch` and the durable queue's delayed retries. */
export interface BackoffPolicy {
  /** Ceiling of the delay after the first failed attempt, in ms. */
  baseDelayMs: number;
  /** No delay is ever longer than this, in ms. */
  maxDelayMs: number;
  /** Growth of the ceiling per further attempt (2 doubles it). */
  factor: number;
}

/**
 * The delay before retrying after failed attempt number `attempt` (1-based): exponential
 * backoff with full jitter, `random(0, min(maxDelayMs, baseDelayMs × factor^(attempt − 1)))`,
 * as a whole number of ms. Full jitter (rather than a fixed or "equal" jitter) spreads retries
 * of items that failed together — e.g. on a rate limit — so they do not hit the service again
 * in lockstep. `random` must return a number in [0, 1); inject one for deterministic tests.
 */
export function backoffDelay(attempt: number, policy: BackoffPolicy, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 1) {
    throw new ReamError('validation_failed', `backoff attempt must be an integer ≥ 1, got ${attempt}`);
  }
  // factor ** (attempt - 1) overflows to Infinity for large attempts; min() caps it all the same.
  const ceiling = Math.floor(Math.min(policy.maxDelayMs, policy.baseDelayMs * policy.factor ** (attempt - 1)));
  // Uniform over the integers 0..ceiling; the min() keeps a random() that returns 1 in bounds.
  return Math.min(ceiling, Math.floor(random() * (ceiling + 1)));
}

/**
 * The delay before retrying after `error` failed attempt number `attempt`: the error's own
 * `retryAfterMs` when it has one (a rate-limited service said when), else {@link backoffDelay}.
 * Either way never more than `maxDelayMs`, the caller's promise about how long a retry waits.
 */
export function retryDelay(attempt: number, error: Pick<ReamError, 'retryAfterMs'>, policy: BackoffPolicy, random: () => number = Math.random): number {
  if (error.retryAfterMs !== undefined) return Math.min(Math.ceil(error.retryAfterMs), Math.floor(policy.maxDelayMs));
  return backoffDelay(attempt, policy, random);
}
