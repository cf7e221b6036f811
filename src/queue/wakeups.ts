/** Future wake-up times kept at once. */
const MAX_PENDING = 1_000;

/**
 * In-process wake-ups for idle workers, so they sleep instead of polling: an enqueue or a retry
 * in this process wakes every waiter at once (they race for the work; losers sleep again), and a
 * task that becomes due later wakes them at that time. Work made by other processes (or a lease
 * that expires) is still found by the waiters' own `maxWaitMs` timeout, unless the queue relays
 * it (BullmqQueue calls `notify` on its pub/sub channel's messages).
 */
export class Wakeups {
  readonly #waiters = new Set<() => void>();
  /** Future wake-up times, ascending. */
  readonly #pending: number[] = [];
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Infinity;
  #closed = false;
  #notified = 0;

  /** Wake-ups so far (now or timed, whether or not anyone waited): a change means new work may be due. */
  get notified(): number {
    return this.#notified;
  }

  /** Wakes every waiter now. */
  notify(): void {
    this.#notified++;
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const wake of waiters) wake();
  }

  /**
   * Wakes every waiter at `at` (epoch ms). One timer runs, for the earliest pending time; the
   * later ones (at most MAX_PENDING, beyond that the waiters' own timeouts cover) follow in turn.
   */
  notifyAt(at: number, now = Date.now()): void {
    if (at <= now) return this.notify();
    if (this.#closed) return;
    const index = this.#pending.findIndex((time) => time >= at);
    if (this.#pending[index] === at) return;
    if (index === -1) {
      if (this.#pending.length >= MAX_PENDING) return;
      this.#pending.push(at);
    } else {
      this.#pending.splice(index, 0, at);
      if (this.#pending.length > MAX_PENDING) this.#pending.pop();
    }
    this.#arm(now);
  }

  wait(maxWaitMs: number, signal?: AbortSignal): Promise<void> {
    if (this.#closed || signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timeout);
        signal?.removeEventListener('abort', done);
        this.#waiters.delete(done);
        resolve();
      };
      const timeout = setTimeout(done, Math.max(0, maxWaitMs));
      signal?.addEventListener('abort', done, { once: true });
      this.#waiters.add(done);
    });
  }

  /** Releases every waiter; later waits return at once. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    this.#pending.length = 0;
    this.notify();
  }

  /** Points the one timer at the earliest pending time. */
  #arm(now: number): void {
    const next = this.#pending[0];
    if (next === undefined || next === this.#timerAt) return;
    clearTimeout(this.#timer);
    this.#timerAt = next;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      const fired = Date.now();
      while ((this.#pending[0] ?? Infinity) <= fired) this.#pending.shift();
      this.notify();
      this.#arm(fired);
    }, Math.max(0, next - now));
    // A pending retry must not keep the process alive on its own.
    this.#timer.unref();
  }
}
