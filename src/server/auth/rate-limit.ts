/** Subjects idle this long are forgotten (their bucket would be full again anyway). */
const IDLE_MS = 10 * 60_000;

/**
 * One token bucket per subject, in memory (per process): `perMinute` tokens refilled evenly over
 * a minute, holding at most `perMinute`. Each request takes one.
 */
export class TokenBuckets {
  readonly #capacity: number;
  readonly #perMs: number;
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  #lastSweep = 0;

  constructor(perMinute: number) {
    if (!Number.isFinite(perMinute) || perMinute <= 0) throw new Error('requestsPerMinute must be a positive number');
    this.#capacity = perMinute;
    this.#perMs = perMinute / 60_000;
  }

  /** Takes a token: 0 if there was one, else the ms until there will be. */
  take(subject: string, now: number = Date.now()): number {
    this.#sweep(now);
    const bucket = this.#buckets.get(subject) ?? { tokens: this.#capacity, at: now };
    bucket.tokens = Math.min(this.#capacity, bucket.tokens + (now - bucket.at) * this.#perMs);
    bucket.at = now;
    this.#buckets.set(subject, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return (1 - bucket.tokens) / this.#perMs;
  }

  #sweep(now: number): void {
    if (now - this.#lastSweep < IDLE_MS) return;
    this.#lastSweep = now;
    for (const [subject, bucket] of this.#buckets) if (now - bucket.at > IDLE_MS) this.#buckets.delete(subject);
  }
}
