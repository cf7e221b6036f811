import type { ErrorInfo } from '../errors.ts';
import type { Progress } from '../events/types.ts';
import type { Ream } from '../runtime/create-ream.ts';
import type { JobCounts, JobRecord, JobStatus } from '../store/port.ts';
import type { JsonObject } from '../json.ts';
import { publicOptions } from '../runtime/job-meta.ts';

export const PRIORITIES = { low: 0, normal: 5, high: 10, critical: 20 } as const;
export type PriorityName = keyof typeof PRIORITIES;

export function isPriorityName(value: string): value is PriorityName {
  return Object.hasOwn(PRIORITIES, value);
}

/** The name of a stored priority, or the number itself when it has none (a library caller's own). */
export function priorityName(priority: number): PriorityName | number {
  const entry = Object.entries(PRIORITIES).find(([, value]) => value === priority);
  return entry ? (entry[0] as PriorityName) : priority;
}

/** What `GET /v1/jobs/:id` answers. Times are ISO 8601 strings (or null). */
export interface JobView {
  id: string;
  status: JobStatus;
  pipeline: string;
  options: JsonObject;
  priority: PriorityName | number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  error: ErrorInfo | null;
  progress: Progress;
  counts: {
    documents: { total: number; succeeded: number; partiallySucceeded: number; failed: number; cancelled: number };
    chunks: { total: number; succeeded: number; failed: number };
  };
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}

/**
 * Progress from stored counts, computed as the engine computes it for events (DESIGN.md §7).
 * `etaSeconds` comes from the page rate since the job started (null until pages are done).
 */
export function progressOf(job: JobRecord, counts: JobCounts, now: number): Progress {
  const documentsDone = counts.documentsSucceeded + counts.documentsPartial + counts.documentsFailed + counts.documentsCancelled;
  const allDone = counts.documentsTotal > 0 && documentsDone === counts.documentsTotal;
  let percent: number;
  if (counts.documentsTotal === 0) percent = 0;
  else if (allDone) percent = 100;
  else if (counts.pagesTotal > 0) percent = Math.min(99, (100 * counts.pagesDone) / counts.pagesTotal);
  else percent = Math.min(99, (100 * documentsDone) / counts.documentsTotal);
  let etaSeconds: number | null = null;
  if (allDone) etaSeconds = 0;
  else if (job.startedAt !== null && now > job.startedAt && counts.pagesDone > 0) {
    const rate = counts.pagesDone / ((now - job.startedAt) / 1000);
    etaSeconds = Math.max(0, Math.round((counts.pagesTotal - counts.pagesDone) / rate));
  }
  return {
    documentsDone,
    documentsTotal: counts.documentsTotal,
    pagesDone: counts.pagesDone,
    pagesTotal: counts.pagesTotal,
    percent: Math.round(percent * 10) / 10,
    etaSeconds,
  };
}

export function jobView(job: JobRecord, counts: JobCounts, now = Date.now()): JobView {
  return {
    id: job.id,
    status: job.status,
    pipeline: job.pipeline,
    options: publicOptions(job.options), // never the reserved key: it may hold a webhook secret
    priority: priorityName(job.priority),
    createdAt: new Date(job.createdAt).toISOString(),
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
    error: job.error,
    progress: progressOf(job, counts, now),
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

export async function loadJobView(ream: Ream, job: JobRecord): Promise<JobView> {
  return jobView(job, await ream.counts(job.id));
}
