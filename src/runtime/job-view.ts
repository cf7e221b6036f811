import { priorityName, type JobView } from '../api-types.ts';
import type { Progress } from '../events/types.ts';
import type { JobCounts, JobRecord } from '../store/port.ts';

export { PRIORITIES, isPriorityName, priorityName, type JobView, type PriorityName } from '../api-types.ts';

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/** Job options that are secrets: kept with the job (a worker needs them), never shown. */
const SECRET_OPTIONS = ['pdfPassword'] as const;

/** The job's options as shown: a secret's value replaced, so no view, webhook or event carries it. */
function shownOptions(options: JobRecord['options']): JobRecord['options'] {
  if (!SECRET_OPTIONS.some((key) => options[key] !== undefined)) return options;
  const shown = { ...options };
  for (const key of SECRET_OPTIONS) if (shown[key] !== undefined) shown[key] = '[redacted]';
  return shown;
}

/** The job as the API shows it; `progress` is the engine's own (the same as in its events). */
export function jobView(job: JobRecord, counts: JobCounts, progress: Progress): JobView {
  return {
    id: job.id,
    tenantId: job.tenantId,
    status: job.status,
    pipeline: job.pipeline,
    // The user's own, secrets redacted: the engine's state (the webhook and its secret) has columns of its own.
    options: shownOptions(job.options),
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
