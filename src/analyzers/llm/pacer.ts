import { randomUUID } from 'node:crypto';
import { ReamError, toReamError } from '../../errors.ts';
import { LocalRateWindow, type RateWindow } from './rate-window.ts';

export interface LlmPacerSettings {
  /** Most calls in flight; the adaptive limit never goes above it. Default 8. */
  maxConcurrency?: number;
  /** Calls per minute and tokens per minute (a `LocalRateWindow`), unless `window` is given. */
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  /** A shared window (Redis) so every worker of a deployment draws on one budget. */
  window?: RateWindow;
  /** Retries of a throttled or failed call inside the pacer before the error goes up. Default 3. */
  maxRetries?: number;
  /** Wait after a throttle without Retry-After, in ms, doubled per retry. Default 1,000. */
  backoffMs?: number;
  /** Injectable for tests. */
  now?: () => number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

function defaultSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(toReamError(signal.reason));
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(new ReamError('cancelled', 'the model call was cancelled while waiting its turn'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * What a call given to {@link LlmPacer.run} answers when it gave its turn up without calling the
 * provider (its job's budget held by other calls): the turn leaves the window and is no success.
 */
export const TURN_GIVEN_UP: unique symbol = Symbol('ream.turnGivenUp');

/** A retryable provider failure the pacer waits out and tries again (throttling or an outage). */
function isThrottle(error: ReamError): boolean {
  return error.code === 'llm_rate_limited' || (error.code === 'llm_unavailable' && error.retryable);
}

/**
 * Paces model calls to what the provider allows: a sliding window of requests and tokens per
 * minute (local or shared), and an adaptive concurrency limit (AIMD): halved when the provider
 * throttles, grown by one per limit's worth of successes. A Retry-After pauses every caller of
 * the window, not only the one that got it.
 */
/** The longest Retry-After this process waits out itself, in ms. */
export const MAX_PAUSE_MS = 60_000;

/**
 * The longest Retry-After honoured at all, in ms (5 minutes). A provider asking for an hour
 * (a spent daily quota) would stall the job for that hour, and every job sharing the window:
 * past this, the window pauses 5 minutes and the call fails retryably (`llm_rate_limited`), for
 * the queue to retry after those 5 minutes, at most its attempts' worth of times.
 */
export const MAX_RETRY_AFTER_MS = 5 * 60_000;

export class LlmPacer {
  readonly #max: number;
  readonly #window: RateWindow;
  readonly #maxRetries: number;
  readonly #backoffMs: number;
  readonly #sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  #limit: number;
  #inFlight = 0;
  readonly #waiting: Array<() => void> = [];
  /** For tests and metrics: calls started, throttles seen. */
  readonly stats = { started: 0, throttled: 0, peakInFlight: 0 };

  constructor(settings: LlmPacerSettings = {}) {
    this.#max = Math.max(1, Math.floor(settings.maxConcurrency ?? 8));
    this.#limit = this.#max;
    const { requestsPerMinute, tokensPerMinute } = settings;
    // A window even without limits: it is what holds a Retry-After's pause for every caller.
    this.#window = settings.window ?? new LocalRateWindow({ ...(requestsPerMinute === undefined ? {} : { requestsPerMinute }), ...(tokensPerMinute === undefined ? {} : { tokensPerMinute }) }, settings.now);
    this.#maxRetries = settings.maxRetries ?? 3;
    this.#backoffMs = settings.backoffMs ?? 1_000;
    this.#sleep = settings.sleep ?? defaultSleep;
  }

  /** The adaptive concurrency limit now. */
  get limit(): number {
    return Math.floor(this.#limit);
  }

  /**
   * Runs `call` when the window and the concurrency limit allow, retrying throttles (bounded).
   * `tokens` is the call's estimate; `used`, if given, reads what the call really used from its
   * result, and the window is corrected to it. A call that answers {@link TURN_GIVEN_UP} made no
   * request: its turn is given back to the window, and the concurrency limit does not grow for it.
   */
  async run<T>(tokens: number, call: () => Promise<T | typeof TURN_GIVEN_UP>, signal: AbortSignal, used?: (result: T) => number): Promise<T | typeof TURN_GIVEN_UP> {
    for (let attempt = 0; ; attempt++) {
      await this.#acquire(signal);
      const id = randomUUID();
      try {
        await this.#turn(tokens, id, signal);
      } catch (error) {
        // No call was made: the window's pause (a Retry-After another caller or worker heard)
        // refused it. The provider throttled nobody here, so the concurrency limit stays.
        this.#release();
        throw error;
      }
      let wait: number;
      try {
        this.stats.started++;
        const result = await call();
        if (result === TURN_GIVEN_UP) {
          this.stats.started--;
          await this.#giveBack(id, tokens);
          return result;
        }
        this.#limit = Math.min(this.#max, this.#limit + 1 / this.#limit);
        // A correction that fails (Redis away a moment) leaves the estimate counted: the call
        // succeeded, and its answer and usage must not be lost over it.
        if (used) await this.#window.correct(id, tokens, used(result)).catch(() => undefined);
        return result;
      } catch (error) {
        const reamError = toReamError(error);
        if (!isThrottle(reamError) || signal.aborted) throw reamError;
        this.stats.throttled++;
        this.#limit = Math.max(1, this.#limit / 2);
        const asked = reamError.retryAfterMs ?? this.#backoffMs * 2 ** attempt;
        if (asked > MAX_RETRY_AFTER_MS) {
          await this.#window.pause(MAX_RETRY_AFTER_MS);
          throw ReamError.retryable('llm_rate_limited', `${reamError.message} (it asked for a pause of ${Math.ceil(asked / 1000)} s, more than the ${MAX_RETRY_AFTER_MS / 1000} s waited at most)`, {
            details: { ...reamError.details, retryAfterMs: asked },
            retryAfterMs: MAX_RETRY_AFTER_MS,
          });
        }
        // The pause holds every caller of the window (every worker, through Redis), however long.
        await this.#window.pause(asked);
        // A longer one (hours) is not waited out here, holding a task's slot: the queue retries
        // the task once it has passed (the error carries it as retryAfterMs).
        if (asked > MAX_PAUSE_MS) throw reamError;
        wait = asked;
        if (attempt >= this.#maxRetries) throw reamError;
      } finally {
        this.#release();
      }
      await this.#sleep(wait, signal);
    }
  }

  /** A turn not used: out of the window (a failure, Redis away a moment, leaves it counted, as before). */
  async #giveBack(id: string, tokens: number): Promise<void> {
    const window = this.#window;
    await (window.giveBack ? window.giveBack(id, tokens) : window.correct(id, tokens, 0)).catch(() => undefined);
  }

  async #acquire(signal: AbortSignal): Promise<void> {
    while (this.#inFlight >= Math.floor(this.#limit)) {
      if (signal.aborted) throw new ReamError('cancelled', 'the model call was cancelled while waiting its turn');
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    }
    this.#inFlight++;
    this.stats.peakInFlight = Math.max(this.stats.peakInFlight, this.#inFlight);
  }

  /** Wakes every waiter; each checks the limit again (few waiters, and the limit may have moved). */
  #release(): void {
    this.#inFlight--;
    for (const wake of this.#waiting.splice(0)) wake();
  }

  async #turn(tokens: number, id: string, signal: AbortSignal): Promise<void> {
    for (;;) {
      const wait = await this.#window.tryAcquire(tokens, id);
      if (wait <= 0) return;
      // A provider's long pause (a Retry-After of an hour, heard by any worker): no call now, and
      // no slot held for it; the queue retries the task when it has passed.
      if (wait > MAX_PAUSE_MS) {
        throw new ReamError('llm_rate_limited', `the model provider asked for a pause of ${Math.ceil(wait / 1000)} s: no call before it ends`, { retryAfterMs: wait });
      }
      await this.#sleep(wait, signal);
    }
  }
}
