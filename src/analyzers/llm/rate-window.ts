/**
 * A sliding window over the last `windowMs` of calls: what "60 requests per minute" means to a
 * provider, and what `/metrics` would count. `tryAcquire` takes a slot (and `tokens`) and answers
 * 0, or how long to wait before asking again. Shared windows (Redis) implement the same.
 */
export interface RateWindow {
  tryAcquire(tokens: number): Promise<number>;
  /** Nobody starts a call before `ms` from now (a provider's Retry-After): every sharer waits. */
  pause(ms: number): Promise<void>;
}

export interface RateLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /** Default 60,000 (a minute); tests shrink it. */
  windowMs?: number;
}

/** The window of one process. `now` is injectable for tests. */
export class LocalRateWindow implements RateWindow {
  readonly #limits: Required<Pick<RateLimits, 'windowMs'>> & RateLimits;
  readonly #now: () => number;
  readonly #calls: Array<{ at: number; tokens: number }> = [];
  #pausedUntil = 0;

  constructor(limits: RateLimits, now: () => number = Date.now) {
    this.#limits = { windowMs: 60_000, ...limits };
    this.#now = now;
  }

  tryAcquire(tokens: number): Promise<number> {
    const now = this.#now();
    if (now < this.#pausedUntil) return Promise.resolve(this.#pausedUntil - now);
    const { windowMs, requestsPerMinute: rpm, tokensPerMinute: tpm } = this.#limits;
    while (this.#calls.length > 0 && (this.#calls[0]?.at ?? 0) <= now - windowMs) this.#calls.shift();
    if (rpm !== undefined && this.#calls.length >= rpm) return Promise.resolve((this.#calls[0]?.at ?? now) + windowMs - now);
    if (tpm !== undefined && this.#calls.length > 0) {
      // A call bigger than the whole budget still runs, alone in its window: never a deadlock.
      let used = this.#calls.reduce((sum, call) => sum + call.tokens, 0);
      if (used + tokens > tpm) {
        for (const call of this.#calls) {
          used -= call.tokens;
          if (used + tokens <= tpm || used === 0) return Promise.resolve(Math.max(1, call.at + windowMs - now));
        }
      }
    }
    this.#calls.push({ at: now, tokens });
    return Promise.resolve(0);
  }

  pause(ms: number): Promise<void> {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + ms);
    return Promise.resolve();
  }
}
