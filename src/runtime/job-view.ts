import { PRIORITIES, type JobView, type PriorityName } from '../api-types.ts';
import type { Progress } from '../events/types.ts';
import type { JobCounts, JobRecord } from '../store/port.ts';

export { PRIORITIES, isPriorityName, type JobView, type PriorityName } from '../api-types.ts';

/** The name of a stored priority, or the number itself when it has none (a library caller's own). */
export function priorityName(priority: number): PriorityName | number {
  const entry = Object.entries(PRIORITIES).find(([, value]) => value === priority);
  return entry ? (entry[0] as PriorityName) : priority;
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** The job as the API shows it; `progress` is the engine's own (the same as in its events). */
export function jobView(job: JobRecord, counts: JobCounts, progress: Progress): JobView {
  return {
    id: job.id,
    status: job.status,
    pipeline: job.pipeline,
    options: job.options, // the user's own: the engine's state (the webhook and its secret) has columns of its own
    priority: priorityName(job.priority),
    createdAt: new Date(job.createdAt).toISOString(),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    error: job.error,
    progress,
    counts: {
      documents: {
        total: counts.documentsTotal,
        succeeded: counts.documentsSucceeded,
        partiallySucceeded: counts.documentsPartial,
        failed: counts.documentsFailed,
        cancelled: counts.documentsCancelled,
      },
      chunks: { total: counts.chunksTotal, succeeded: counts.chunksSucceeded, failed: counts.chunksFailed },
    },
  };
}

/** Where a job view's counts and progress come from (the engine). */
export interface JobViewSource {
  jobCounts(jobId: string): Promise<JobCounts>;
  progress(jobId: string, counts: JobCounts, now?: number, pipeline?: string): Progress;
}

/** {@link jobView} with the job's current counts and progress. */
export async function loadJobView(source: JobViewSource, job: JobRecord): Promise<JobView> {
  const counts = await source.jobCounts(job.id);
  return jobView(job, counts, source.progress(job.id, counts, undefined, job.pipeline));
}
