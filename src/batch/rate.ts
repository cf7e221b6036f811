/** `processBatch`'s `rate` option: item attempts started per second or per minute. */
export type RateOption = { perSecond: number; perMinute?: undefined } | { perMinute: number; perSecond?: undefined };

/**
 * Spaces attempt starts evenly, `intervalMs` apart: the "delay between calls" a rate-limited
 * API asks for, without a burst at the start. Each caller reserves the next free start time, so
 * concurrent items queue in order; a reservation is kept even if its item is cancelled (a gap,
 * never a burst).
 */
export class RateGate {
  readonly intervalMs: number;
  readonly #now: () => number;
  #next = Number.NEGATIVE_INFINITY;

  constructor(intervalMs: number, now: () => number = Date.now) {
    this.intervalMs = intervalMs;
    this.#now = now;
  }

  static of(rate: RateOption): RateGate {
    return new RateGate(rate.perSecond !== undefined ? 1000 / rate.perSecond : 60_000 / rate.perMinute);
  }

  /** Takes the next start time: the ms to wait before starting (0: now). */
  reserve(): number {
    const now = this.#now();
    const at = Math.max(now, this.#next);
    this.#next = at + this.intervalMs;
    return at - now;
  }
}
