import type { Progress } from '../events/types.ts';

/**
 * The ETA of a `ream run` whose files are still going into its job. The job's own ETA knows only
 * the documents added so far: with small files, added about as fast as they are read, it said
 * "0s" for the whole run. Files not added yet count as the job's average document (as documents
 * not inspected yet do in the job's ETA), at the page rate this run has seen since its first
 * progress.
 */
export class RunEta {
  #first: { at: number; pagesDone: number } | undefined;

  /** Seconds left, or null until there is a rate to go by; `notAdded`: this run's files not in the job yet. */
  estimate(progress: Pick<Progress, 'pagesDone' | 'pagesTotal' | 'documentsTotal' | 'documentsUncounted' | 'etaSeconds'>, notAdded: number, now = Date.now()): number | null {
    this.#first ??= { at: now, pagesDone: progress.pagesDone };
    if (notAdded <= 0) return progress.etaSeconds;
    const seconds = (now - this.#first.at) / 1000;
    const pages = progress.pagesDone - this.#first.pagesDone;
    if (seconds <= 0 || pages <= 0) return null;
    const uncounted = progress.documentsUncounted ?? 0;
    const counted = progress.documentsTotal - uncounted;
    const perDocument = counted > 0 ? Math.max(1, progress.pagesTotal / counted) : 1;
    const expected = progress.pagesTotal + (uncounted + notAdded) * perDocument;
    return Math.max(0, Math.round((expected - progress.pagesDone) / (pages / seconds)));
  }
}
