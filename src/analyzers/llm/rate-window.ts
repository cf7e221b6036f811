/**
 * A sliding window over the last `windowMs` of calls: what "60 requests per minute" means to a
 * provider, and what `/metrics` would count; under a requests-per-minute limit, starts are also
 * spaced evenly over the minute ({@link spacingMs}, on a schedule: {@link scheduledStart}). `tryAcquire` takes a slot (and `tokens`) and answers
 * 0, or how long to wait before asking again. Shared windows (Redis) implement the same.
 */
export interface RateWindow {
  /** `id` names the call, for {@link correct}. */
  tryAcquire(tokens: number, id?: string): Promise<number>;
  /**
   * The call `id` took `charged` tokens (an estimate) and the provider says it used `used`: the
   * window counts `used` from now on, so tokens per minute follow what the provider counts.
   */
  correct(id: string, charged: number, used: number): Promise<void>;
  /** Nobody starts a call before `ms` from now (a provider's Retry-After): every sharer waits. */
  pause(ms: number): Promise<void>;
  /**
   * The call `id`, granted with `charged` tokens, was not made (it gave its turn up): it leaves
   * the window, and the start it was scheduled at is free again when no later call took the next
   * one. Optional for windows of one's own: without it the call's tokens are corrected to 0.
   */
  giveBack?(id: string, charged: number): Promise<void>;
}

export interface RateLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /** Default 60,000 (a minute); tests shrink it. */
  windowMs?: number;
  /**
   * Extra time a call holds its place in the window, in ms. A call is counted here when it is
   * granted and by the provider when it arrives; that delay varies (a busy event loop, the
   * network), so without a margin a window the provider measures can hold a few calls more than
   * the limit. Default: 2% of the window, at least 250 ms.
   */
  marginMs?: number;
}

/**
 * Least time between two call starts under a requests-per-minute limit: the minute's calls spread
 * over it, not sent at once. Providers enforce a limit over shorter periods too (60 a minute as 1
 * a second), so a minute's worth sent in one burst is throttled; 0 without the limit.
 */
export function spacingMs(limits: RateLimits): number {
  const { requestsPerMinute: rpm } = limits;
  return rpm === undefined || rpm <= 0 ? 0 : (limits.windowMs ?? 60_000) / rpm;
}

/**
 * The scheduled start a call granted `now` takes, its turn having come at `due` (a spacing after
 * the one before): `due` itself when granted late by less than half a spacing (a busy event loop,
 * a waiter's timer firing late), so that lateness does not put off every later start and the
 * rate holds at the limit; else `now` (the window was idle: the schedule starts again).
 */
export function scheduledStart(due: number, now: number, spacing: number): number {
  return now - due < spacing / 2 ? due : now;
}

/** The window a call occupies, margin included (see {@link RateLimits.marginMs}). */
export function heldMs(limits: RateLimits): number {
  const windowMs = limits.windowMs ?? 60_000;
  return windowMs + (limits.marginMs ?? Math.max(250, windowMs * 0.02));
}

/** The window of one process. `now` is injectable for tests. */
export class LocalRateWindow implements RateWindow {
  readonly #limits: RateLimits & { windowMs: number };
  readonly #spacingMs: number;
  readonly #now: () => number;
  /** `slot` and `before`: the scheduled start the call took, and the one before it (for {@link giveBack}). */
  readonly #calls: Array<{ at: number; tokens: number; id: string | undefined; slot: number; before: number }> = [];
  #pausedUntil = 0;
  /** The scheduled start of the last call granted (see {@link scheduledStart}). */
  #slot = Number.NEGATIVE_INFINITY;

  constructor(limits: RateLimits, now: () => number = Date.now) {
    this.#limits = { ...limits, windowMs: heldMs(limits) };
    this.#spacingMs = spacingMs(limits);
    this.#now = now;
  }

  tryAcquire(tokens: number, id?: string): Promise<number> {
    const now = this.#now();
    if (now < this.#pausedUntil) return Promise.resolve(this.#pausedUntil - now);
    const { windowMs, requestsPerMinute: rpm, tokensPerMinute: tpm } = this.#limits;
    if (rpm === undefined && tpm === undefined) return Promise.resolve(0); // pauses only: no call is kept
    while (this.#calls.length > 0 && (this.#calls[0]?.at ?? 0) <= now - windowMs) this.#calls.shift();
    if (rpm !== undefined && this.#calls.length >= rpm) return Promise.resolve((this.#calls[0]?.at ?? now) + windowMs - now);
    const due = this.#slot + this.#spacingMs;
    if (now < due) return Promise.resolve(Math.max(1, Math.ceil(due - now)));
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
    const before = this.#slot;
    if (this.#spacingMs > 0) this.#slot = scheduledStart(due, now, this.#spacingMs);
    this.#calls.push({ at: now, tokens, id, slot: this.#slot, before });
    return Promise.resolve(0);
  }

  giveBack(id: string): Promise<void> {
    const index = this.#calls.findIndex((entry) => entry.id === id);
    const call = this.#calls[index];
    if (!call) return Promise.resolve();
    this.#calls.splice(index, 1);
    // The last start granted: the next call may take it instead of waiting a spacing after it.
    if (this.#spacingMs > 0 && this.#slot === call.slot) this.#slot = call.before;
    return Promise.resolve();
  }

  correct(id: string, _charged: number, used: number): Promise<void> {
    const call = this.#calls.find((entry) => entry.id === id);
    if (call) call.tokens = used;
    return Promise.resolve();
  }

  pause(ms: number): Promise<void> {
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + ms);
    return Promise.resolve();
  }
}
