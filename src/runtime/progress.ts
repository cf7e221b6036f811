import type { Progress } from '../events/types.ts';
import type { JobCounts } from '../store/port.ts';

/** The pipeline whose pages are a table's data rows (src/pipeline/rows-pipeline.ts). */
const ROWS_PIPELINE = 'rows';

/**
 * Turns stored counts into the progress every channel reports (DESIGN.md §7). The ETA uses the
 * page rate seen by this process since it first saw the job, so a resumed run is not credited
 * with work done before it started.
 */
export class ProgressTracker {
  readonly #firstSeen = new Map<string, { at: number; pagesDone: number }>();

  /** `pipeline`: the job's; a `rows` job's progress says rows too. */
  progress(jobId: string, counts: JobCounts, now: number, pipeline?: string): Progress {
    const documentsDone = counts.documentsSucceeded + counts.documentsPartial + counts.documentsFailed + counts.documentsCancelled;
    const allDone = counts.documentsTotal > 0 && documentsDone === counts.documentsTotal;
    const uncounted = counts.documentsUncounted;
    // Documents not inspected yet count as the average of those that are: without them a job's
    // first small document read made it "99 %, 0 s left", and the percent fell as others were counted.
    const counted = counts.documentsTotal - uncounted;
    const pagesExpected = counts.pagesTotal + (uncounted > 0 ? uncounted * Math.max(1, counted > 0 ? counts.pagesTotal / counted : 1) : 0);
    let percent: number;
    if (counts.documentsTotal === 0) percent = 0;
    // Every document ended, some by cancellation: what was read of the job, not "100 %" of nothing.
    else if (allDone && counts.documentsCancelled > 0) {
      percent = counts.pagesTotal > 0
        ? Math.min(100, (100 * counts.pagesDone) / counts.pagesTotal)
        : (100 * (documentsDone - counts.documentsCancelled)) / counts.documentsTotal;
    } else if (allDone) percent = 100;
    else if (counts.pagesTotal > 0) percent = Math.min(99, (100 * counts.pagesDone) / pagesExpected);
    else percent = Math.min(99, (100 * documentsDone) / counts.documentsTotal);

    const first = this.#firstSeen.get(jobId);
    if (!first) this.#firstSeen.set(jobId, { at: now, pagesDone: counts.pagesDone });
    let etaSeconds: number | null = null;
    if (allDone) etaSeconds = 0;
    else if (first && now > first.at && counts.pagesDone > first.pagesDone) {
      const rate = (counts.pagesDone - first.pagesDone) / ((now - first.at) / 1000);
      etaSeconds = Math.max(0, Math.round((pagesExpected - counts.pagesDone) / rate));
    }
    return {
      documentsDone,
      documentsTotal: counts.documentsTotal,
      pagesDone: counts.pagesDone,
      pagesTotal: counts.pagesTotal,
      percent: Math.round(percent * 10) / 10,
      etaSeconds,
      ...(uncounted > 0 && !allDone ? { documentsUncounted: uncounted } : {}),
      ...(pipeline === ROWS_PIPELINE ? { rows: { done: counts.pagesDone, total: counts.pagesTotal } } : {}),
    };
  }

  forget(jobId: string): void {
    this.#firstSeen.delete(jobId);
  }
}
