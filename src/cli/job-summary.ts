import type { JobView } from '../api-types.ts';
import { formatJobStop, formatModelUsage, jobStop } from './llm-flags.ts';
import { printable } from './printable.ts';

/**
 * What `ream wait` (and `ream submit --wait`) say of a job that ended, after its status: its
 * documents, its pages, the model's tokens (and cost, with a price table) of an LLM job, and why
 * it was stopped short (`stopped: …`, its token budget spent) or failed — the lines of a `ream
 * run` summary, from the job's view.
 */
export function jobSummaryLines(job: JobView): string[] {
  const documents = job.counts.documents;
  const lines = [
    `documents: ${documents.succeeded} succeeded, ${documents.partiallySucceeded} partially succeeded, ${documents.failed} failed, ${documents.cancelled} cancelled of ${documents.total}`,
    `pages: ${job.progress.pagesDone} of ${job.progress.pagesTotal}`,
  ];
  if (job.usage) lines.push(formatModelUsage(job.usage));
  const stop = jobStop(job);
  if (stop) lines.push(formatJobStop(stop));
  else if (job.status === 'failed' && job.error) lines.push(`failed: ${job.error.message} [${job.error.code}]`);
  // The messages hold file names and a provider's words: no control character reaches the terminal.
  return lines.map(printable);
}
