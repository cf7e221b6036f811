import { TokenBuckets } from './auth/rate-limit.ts';

/**
 * What server instances must agree on: rate limits (a key's budget is one, however many
 * instances answer it) and once-only side effects (a job's webhook is sent by one instance).
 * One server: in memory. Several (distributed): in Redis.
 */
export interface Coordination {
  /** Takes a request token from `subject`'s bucket of `perMinute`: 0 if there was one, else the ms until there will be. */
  takeToken(subject: string, perMinute: number): Promise<number>;
  /** True for the first caller of `key` (within `ttlMs`), false for every other, on any instance. */
  claimOnce(key: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** One process: token buckets and claims in memory. */
export function localCoordination(): Coordination {
  const buckets = new Map<number, TokenBuckets>();
  const claimed = new Map<string, number>();
  return {
    takeToken(subject, perMinute) {
      let bucket = buckets.get(perMinute);
      if (!bucket) buckets.set(perMinute, (bucket = new TokenBuckets(perMinute)));
      return Promise.resolve(bucket.take(subject));
    },
    claimOnce(key, ttlMs) {
      const now = Date.now();
      for (const [k, until] of claimed) if (until < now) claimed.delete(k);
      if (claimed.has(key)) return Promise.resolve(false);
      claimed.set(key, now + ttlMs);
      return Promise.resolve(true);
    },
    close: () => Promise.resolve(),
  };
}
