// `createReam`'s numeric settings, checked before anything opens. Each refused value would
// otherwise fail later and far from its cause: no thread or no slot leaves every job queued
// forever (and `close` waiting on it), a lease or a timeout of 0 fails every task with `timeout`,
// and a timer past 2³¹ − 1 ms fires at once.
import { ReamError } from '../errors.ts';
import { checkUrl } from './deployment.ts';
import type { ReamOptions } from './ream.ts';

/** setTimeout's longest wait; a longer one overflows and fires at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** A lease shorter than this cannot be renewed in time (the heartbeat runs every third of it). */
const MIN_LEASE_MS = 100;

type Checked = 'threads' | 'concurrency' | 'taskTimeoutMs' | 'maxAttempts' | 'leaseMs';

const RANGES: Record<Checked, readonly [min: number, max: number]> = {
  threads: [1, 1024],
  concurrency: [1, 100_000],
  taskTimeoutMs: [1, MAX_TIMER_MS],
  maxAttempts: [1, 1000],
  leaseMs: [MIN_LEASE_MS, MAX_TIMER_MS],
};

/**
 * Refuses (`validation_failed`) options that are no object, a `dataDir` that is no string,
 * distributed URLs of the wrong kind (a `mysql://` database URL would be tried on PostgreSQL's
 * port and fail as an outage), and a numeric setting that is not a whole number in its range.
 */
export function checkReamOptions(options: ReamOptions): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw ReamError.nonRetryable('validation_failed', `createReam: options must be an object, got ${options === null ? 'null' : typeof options}`);
  }
  if (options.dataDir !== undefined && (typeof options.dataDir !== 'string' || options.dataDir === '')) {
    throw ReamError.nonRetryable('validation_failed', `createReam: dataDir must be a folder's path, got ${JSON.stringify(options.dataDir) ?? typeof options.dataDir}`);
  }
  const { distributed } = options;
  if (distributed !== undefined) {
    checkUrl(String(distributed.redisUrl), ['redis:', 'rediss:'], 'createReam: distributed.redisUrl');
    checkUrl(String(distributed.databaseUrl), ['postgres:', 'postgresql:'], 'createReam: distributed.databaseUrl');
  }
  for (const [name, [min, max]] of Object.entries(RANGES) as [Checked, readonly [number, number]][]) {
    const value: unknown = options[name];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw ReamError.nonRetryable('validation_failed', `createReam: ${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value) ?? typeof value}`);
    }
  }
}
