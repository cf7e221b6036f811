import { ReamError } from '../../errors.ts';
import type { AnalysisStore } from '../store/port.ts';

/**
 * A job's token budget as the calls of this process draw on it. A call reserves its estimate
 * only once it holds its turn (see `answer`), so calls waiting for the pacer hold nothing; and
 * a reservation refused while other calls of the same job are in flight here waits for them to
 * settle (their estimates are usually above what they spend) before the job is told the budget
 * is gone. Reservations of other processes are not seen: there, a refusal is final for the call.
 * A refusal for what the job has spent ends the job's spending: the budget counts as spent
 * (`AnalysisStore.exhaust`), so no later call of the job, in any process, is made — even one
 * small enough to fit what is left. One for other processes' calls in flight fails the call
 * alone: their estimates may settle for much less.
 */
export class JobBudgets {
  readonly #held = new Map<string, number>();
  readonly #waiting = new Map<string, Array<() => void>>();

  /** Sets `estimate` aside from the job's `budget`, or throws `budget_exceeded`. */
  async reserve(store: AnalysisStore, jobId: string, estimate: number, budget: number, signal: AbortSignal): Promise<void> {
    for (;;) {
      if (await store.reserve(jobId, estimate, budget)) {
        this.#held.set(jobId, (this.#held.get(jobId) ?? 0) + 1);
        return;
      }
      if ((this.#held.get(jobId) ?? 0) === 0) {
        const ended = await store.exhaust(jobId, estimate, budget);
        const outcome = ended ? 'the job makes no more model calls' : 'other calls of the job in flight hold the rest of it: this call is not made';
        throw ReamError.nonRetryable('budget_exceeded', `the job's token budget (maxTokens ${budget}) does not cover the next model call (about ${estimate} tokens): ${outcome}`, {
          details: { maxTokens: budget, estimate },
        });
      }
      await new Promise<void>((resolve) => {
        const waiters = this.#waiting.get(jobId) ?? [];
        waiters.push(resolve);
        this.#waiting.set(jobId, waiters);
      });
      signal.throwIfAborted();
    }
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
