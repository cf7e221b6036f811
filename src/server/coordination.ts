import { TokenBuckets } from './auth/rate-limit.ts';

/**
 * What server instances must agree on: rate limits (a key's budget is one, however many
 * instances answer it). One server: in memory. Several (distributed): in Redis. (Job webhooks
 * need no agreement: each delivery is a queue task, deduplicated by its id.)
 */
export interface Coordination {
  /** Takes a request token from `subject`'s bucket of `perMinute`: 0 if there was one, else the ms until there will be. */
  takeToken(subject: string, perMinute: number): Promise<number>;
  close(): Promise<void>;
}

/** One process: token buckets in memory. */
export function localCoordination(): Coordination {
  const buckets = new Map<number, TokenBuckets>();
  return {
    takeToken(subject, perMinute) {
      let bucket = buckets.get(perMinute);
      if (!bucket) buckets.set(perMinute, (bucket = new TokenBuckets(perMinute)));
      return Promise.resolve(bucket.take(subject));
    },
    close: () => Promise.resolve(),
  };
}
