import { setTimeout as sleep } from 'node:timers/promises';
import { ReamError, toReamError } from '../../errors.ts';
import { RESERVATION_LEASE_MS, type AnalysisStore } from '../store/port.ts';

export interface JobBudgetsSettings {
  /**
   * Longest wait, in ms, for other processes' calls in flight to settle before a call refused for
   * them goes back to the queue (retryable `budget_exceeded`), when some of them reserved since
   * it began waiting. Default 60,000. Reservations all older than the wait are waited for until
   * they settle or lapse (`RESERVATION_LEASE_MS`): a dead worker's never fails the call.
   */
  maxWaitMs?: number;
  /** First pause between two tries, in ms, doubled up to 2 s. Default 250. */
  pollMs?: number;
}

/** How long the queue waits before it retries a call still refused for other calls in flight. */
const RETRY_AFTER_MS = 5_000;

/**
 * A job's token budget as the calls of this process draw on it. A call reserves its estimate
 * only once it holds its turn (see `answer`), so calls waiting for the pacer hold nothing. A
 * reservation refused while other calls of the same job are in flight waits for them to settle
 * (their estimates are usually above what they spend) and tries again: the calls of this process
 * wake it when they settle; those of other processes (not seen here) are waited for by trying
 * again every few hundred ms, up to `maxWaitMs`, after which the call fails retryably for the
 * queue to try later. Only a refusal for what the job has spent is final: the budget then counts
 * as spent (`AnalysisStore.exhaust`), so no later call of the job, in any process, is made — even
 * one small enough to fit what is left.
 */
export class JobBudgets {
  readonly #held = new Map<string, number>();
  readonly #waiting = new Map<string, Array<() => void>>();
  readonly #maxWaitMs: number;
  readonly #pollMs: number;

  constructor(settings: JobBudgetsSettings = {}) {
    this.#maxWaitMs = settings.maxWaitMs ?? 60_000;
    this.#pollMs = settings.pollMs ?? 250;
  }

  /**
   * Sets `estimate` aside at once: true; false when only the job's calls in flight hold the rest
   * (wait with {@link room}, holding nothing, and try again); `budget_exceeded` when what the job
   * has spent leaves no room (the budget then counts as spent). A call about a part that can be
   * asked about in smaller pieces (`splitFrom`: the least left for that, see {@link checkPart})
   * whose estimate is more than the job has left, while that much is left, is refused with
   * {@link isPartOverBudget} instead, the budget untouched.
   */
  async tryReserve(store: AnalysisStore, jobId: string, estimate: number, budget: number, splitFrom?: number): Promise<boolean> {
    if (await store.reserve(jobId, estimate, budget)) {
      this.#held.set(jobId, (this.#held.get(jobId) ?? 0) + 1);
      return true;
    }
    if ((this.#held.get(jobId) ?? 0) > 0) return false; // this process's calls settle and wake it
    await this.#refusedForSpending(store, jobId, estimate, budget, splitFrom);
    return false;
  }

  /**
   * Before a `splittable` call takes its turn: refused with {@link isPartOverBudget} when its
   * estimate is more than the job has left (something being left), so that asking about smaller
   * parts takes no turn of the rate window for a call never made. The reservation checks again.
   * False, nothing thrown, when less than `minLeft` is left: the part is not worth cutting for
   * what is left (see `CallScope.minLeftToSplit`), and its call is made or ends the budget whole.
   */
  async checkPart(store: AnalysisStore, jobId: string, estimate: number, budget: number, minLeft = 0): Promise<boolean> {
    const left = await store.budgetLeft(jobId, budget);
    if (left < minLeft) return false;
    if (left > 0 && estimate > left) throw partOverBudget(estimate, left, budget);
    return true;
  }

  /**
   * After a refused reservation with none of the job's calls in flight here: nothing when the
   * refusal may be for other processes' calls in flight; else, for what the job has spent, a
   * smaller piece to try when one may fit (`splitFrom` or more left: what is left may have shrunk
   * below it since the call's first check, while other calls held it), or the budget's end.
   * What is spent only grows: an estimate above what is left now never fits.
   */
  async #refusedForSpending(store: AnalysisStore, jobId: string, estimate: number, budget: number, splitFrom: number | undefined): Promise<void> {
    if (splitFrom !== undefined) await this.checkPart(store, jobId, estimate, budget, splitFrom);
    if (await store.exhaust(jobId, estimate, budget)) throw exhausted(estimate, budget);
  }

  /**
   * Until the job's budget may have room for `estimate` (a call of the job in this process
   * settled, or a reservation of other processes' did: tried, and given back at once), holding
   * nothing. Past `maxWaitMs` (the settings' unless given) since `started`, a retryable `budget_exceeded` for the queue;
   * `budget_exceeded` for good when what the job has spent leaves no room.
   */
  async room(store: AnalysisStore, jobId: string, estimate: number, budget: number, signal: AbortSignal, started: number, splitFrom?: number, maxWaitMs = this.#maxWaitMs): Promise<void> {
    for (let pause = this.#pollMs; ; pause = Math.min(pause * 2, 2_000)) {
      signal.throwIfAborted();
      if ((this.#held.get(jobId) ?? 0) > 0) return this.#settled(jobId, signal);
      if (await store.reserve(jobId, estimate, budget)) {
        await store.settle(jobId, estimate, 0);
        return;
      }
      if ((this.#held.get(jobId) ?? 0) === 0) await this.#refusedForSpending(store, jobId, estimate, budget, splitFrom);
      // Other processes' calls of the job hold the rest: they settle, or lapse (their process
      // died). Past the longest wait, a call gives up (for the queue to try again later) only
      // while the job's calls are alive — some reserved since it began waiting; else what holds
      // the rest was reserved before and settles or lapses within its lease: it waits for that,
      // rather than failing for a worker that died.
      const left = maxWaitMs - (Date.now() - started);
      // Bounded all the same by the wait and a lease (a clock far behind could hide a live worker).
      const outlived = left + RESERVATION_LEASE_MS <= 0;
      if (left <= 0 && (outlived || (await store.lastReservation(jobId)) >= started)) {
        throw ReamError.retryable('budget_exceeded', `the job's token budget (maxTokens ${budget}) is held by its calls in flight in other workers: this call (about ${estimate} tokens) is tried again once they settle`, {
          details: { maxTokens: budget, estimate }, retryAfterMs: RETRY_AFTER_MS,
        });
      }
      try {
        await sleep(left > 0 ? Math.min(pause, left) : pause, undefined, { signal });
      } catch (error) {
        throw toReamError(error);
      }
    }
  }

  /**
   * Until a call of the job in this process settles, or `signal` aborts (its task cancelled or
   * stopped: the call it waits for may be another document's, answering for minutes).
   */
  #settled(jobId: string, signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const waiters = this.#waiting.get(jobId)?.filter((waiter) => waiter !== wake) ?? [];
        if (waiters.length > 0) this.#waiting.set(jobId, waiters);
        else this.#waiting.delete(jobId);
        reject(toReamError(signal.reason));
      };
      const wake = (): void => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.#waiting.set(jobId, [...(this.#waiting.get(jobId) ?? []), wake]);
    });
  }

  /** Gives the reservation back with what the call really spent, and wakes the job's waiting calls. */
  async settle(store: AnalysisStore, jobId: string, estimate: number, spent: number): Promise<void> {
    try {
      await store.settle(jobId, estimate, spent);
    } finally {
      const left = (this.#held.get(jobId) ?? 1) - 1;
      if (left > 0) this.#held.set(jobId, left);
      else this.#held.delete(jobId);
      const waiters = this.#waiting.get(jobId) ?? [];
      this.#waiting.delete(jobId);
      for (const wake of waiters) wake();
    }
  }
}

/** Why a part's call was refused while the job's budget goes on: see {@link isPartOverBudget}. */
const PART_OVER_BUDGET = 'part_over_budget';

/**
 * A call refused because its estimate is more than the job has left, while something is left:
 * the part it asks about is asked about in smaller pieces, the first of which may fit. The job's
 * budget was not ended for it.
 */
export function isPartOverBudget(error: unknown): boolean {
  return error instanceof ReamError && error.code === 'budget_exceeded' && (error.details as { reason?: unknown } | undefined)?.reason === PART_OVER_BUDGET;
}

function partOverBudget(estimate: number, left: number, budget: number): ReamError {
  return ReamError.nonRetryable('budget_exceeded', `the job's token budget (maxTokens ${budget}) has ${left} tokens left, fewer than this call's estimate (about ${estimate} tokens): its text is asked about in smaller parts`, {
    details: { maxTokens: budget, estimate, left, reason: PART_OVER_BUDGET },
  });
}

/** The job's token budget spent: no later call of the job is made. */
function exhausted(estimate: number, budget: number): ReamError {
  return ReamError.nonRetryable('budget_exceeded', `the job's token budget (maxTokens ${budget}) does not cover the next model call (about ${estimate} tokens): the job makes no more model calls`, {
    details: { maxTokens: budget, estimate },
  });
}
