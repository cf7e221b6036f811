import { ReamError } from '../../errors.ts';

/**
 * Aborts for the work running in this process, per job: cancelling a job reaches every task of
 * it running here. Other processes learn of a cancellation from the queue
 * (`TaskQueue.onJobCancelled`) and call {@link abortRunning} on their own registry.
 */
export class AbortRegistry {
  readonly #running = new Map<string, Set<AbortController>>();

  /** Registers running work so a cancellation can abort it; returns the function that unregisters. */
  track(jobId: string, controller: AbortController): () => void {
    let set = this.#running.get(jobId);
    if (!set) this.#running.set(jobId, (set = new Set()));
    set.add(controller);
    return () => {
      set.delete(controller);
      if (set.size === 0) this.#running.delete(jobId);
    };
  }

  /** Aborts the job's tasks running in this process, with a non-retryable `cancelled`. */
  abortRunning(jobId: string): void {
    for (const controller of this.#running.get(jobId) ?? []) {
      controller.abort(ReamError.nonRetryable('cancelled', 'the job was cancelled'));
    }
  }
}
