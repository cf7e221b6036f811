import { TokenBuckets } from './auth/rate-limit.ts';

/**
 * What server instances must agree on: rate limits (a key's budget is one, however many
 * instances answer it) and WebSocket and download tickets (issued by one instance, redeemed on
 * another). One server: in memory. Several (distributed): in Redis. (Job webhooks need no
 * agreement: each delivery is a queue task, deduplicated by its id.)
 */
export interface Coordination {
  /** Takes a request token from `subject`'s bucket of `perMinute`: 0 if there was one, else the ms until there will be. */
  takeToken(subject: string, perMinute: number): Promise<number>;
  /** Keeps `value` under `key` for `ttlMs`, to be taken once. */
  putOnce(key: string, value: string, ttlMs: number): Promise<void>;
  /** The value under `key`, removed as it is read; undefined when absent, taken or expired. */
  takeOnce(key: string): Promise<string | undefined>;
  close(): Promise<void>;
}

/** One process: token buckets in memory. */
export function localCoordination(): Coordination {
  const buckets = new Map<number, TokenBuckets>();
  const once = new Map<string, { value: string; expiresAt: number }>();
  const sweep = (now: number): void => {
    for (const [key, entry] of once) if (entry.expiresAt <= now) once.delete(key);
  };
  return {
    takeToken(subject, perMinute) {
      let bucket = buckets.get(perMinute);
      if (!bucket) buckets.set(perMinute, (bucket = new TokenBuckets(perMinute)));
      return Promise.resolve(bucket.take(subject));
    },
    putOnce(key, value, ttlMs) {
      sweep(Date.now()); // tickets nobody redeemed do not pile up
      once.set(key, { value, expiresAt: Date.now() + ttlMs });
      return Promise.resolve();
    },
    takeOnce(key) {
      const entry = once.get(key);
      once.delete(key);
      return Promise.resolve(entry && entry.expiresAt > Date.now() ? entry.value : undefined);
    },
    close: () => Promise.resolve(),
  };
}
