import { ReamError } from '../../errors.ts';

/**
 * Aborts for the work running in this process, per job and per document: cancelling a job
 * reaches every task of it running here, cancelling a document only that document's tasks.
 * Other processes learn of a cancellation from the queue (`TaskQueue.onJobCancelled`,
 * `TaskQueue.onDocumentCancelled`) and call {@link abortRunning} on their own registry.
 */
export class AbortRegistry {
  readonly #running = new Map<string, Set<{ controller: AbortController; documentId: string | undefined }>>();

  /**
   * Registers running work so a cancellation can abort it; returns the function that unregisters.
   * `documentId` is the document the task works on (none for job-wide tasks such as webhooks).
   */
  track(jobId: string, controller: AbortController, documentId?: string): () => void {
    let set = this.#running.get(jobId);
    if (!set) this.#running.set(jobId, (set = new Set()));
    const entry = { controller, documentId };
    set.add(entry);
    return () => {
      set.delete(entry);
      if (set.size === 0) this.#running.delete(jobId);
    };
  }

  /**
   * Aborts the job's tasks running in this process (only those of `documentId` when given), with
   * a non-retryable `cancelled`.
   */
  abortRunning(jobId: string, documentId?: string): void {
    for (const { controller, documentId: running } of this.#running.get(jobId) ?? []) {
      if (documentId !== undefined && running !== documentId) continue;
      const what = documentId === undefined ? 'the job was cancelled' : `document ${documentId} was cancelled`;
      controller.abort(ReamError.nonRetryable('cancelled', what));
    }
  }
}
