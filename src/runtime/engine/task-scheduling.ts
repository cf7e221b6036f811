import type { NewTask, TaskQueue } from '../../queue/port.ts';
import type { JobRecord } from '../../store/port.ts';
import { traceField } from '../../tracing/spans.ts';
import { TASK_KINDS, taskIds, type DocumentPayload } from '../task-kinds.ts';

/**
 * Enqueues the documents' first tasks (`document.inspect`) in one call, in the job's current
 * retry generation. Idempotent: the task ids are derived, and the queue dedupes by id.
 */
export async function scheduleDocuments(
  queue: Pick<TaskQueue, 'enqueue'>,
  maxAttempts: number,
  job: Pick<JobRecord, 'id' | 'priority' | 'retryGeneration'>,
  documentIds: readonly string[],
): Promise<void> {
  if (documentIds.length === 0) return;
  const retry = job.retryGeneration;
  const traced = traceField(); // the request (or task) that scheduled them is their parent span
  const tasks = documentIds.map(
    (documentId): NewTask => ({
      id: taskIds.inspect(job.id, documentId, retry),
      jobId: job.id,
      kind: TASK_KINDS.inspect,
      payload: { documentId, ...(retry > 0 ? { retry } : {}), ...traced } satisfies DocumentPayload,
      priority: job.priority,
      maxAttempts,
    }),
  );
  await queue.enqueue(tasks);
}
