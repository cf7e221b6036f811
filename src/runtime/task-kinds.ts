import type { ChunkRef } from '../events/types.ts';

/** The kinds of task the engine schedules, one per unit of work that can run anywhere. */
export const TASK_KINDS = {
  /** validate + chunk: identify and inspect the file, then fan out its chunks. */
  inspect: 'document.inspect',
  /** extract + analyze one page range; its checkpoint is the chunk result. */
  extract: 'chunk.extract',
  /** merge chunks in page order, index, complete the document. Waits for its chunks (a flow). */
  merge: 'document.merge',
  /** POST a job's terminal event to its webhook (src/runtime/webhook-delivery.ts). */
  webhook: 'webhook.deliver',
} as const;

export interface DocumentPayload {
  documentId: string;
  /** The job's retry generation this task belongs to (absent or 0: the first run). */
  retry?: number;
  /** The W3C traceparent of the span that made this task, when tracing is on (src/tracing/). */
  trace?: string;
}

export interface ChunkPayload extends DocumentPayload {
  chunk: ChunkRef;
  /**
   * On a job retry of a chunk that succeeded with failed pages (a table's failed rows): those
   * 1-based pages, run again alone while the checkpoint's other pages stay as stored.
   */
  redoPages?: number[];
}

export interface WebhookPayload {
  /** The job whose event is announced (the task's own `jobId` is {@link webhookQueueJobId}'s). */
  jobId: string;
  /** `job.completed`, `job.failed` or `job.cancelled`. */
  event: string;
  /** The event's seq: a job that ends again (retried, or given a new file) is announced again. */
  seq: number;
}

/**
 * The queue's `jobId` of a job's webhook deliveries: not the job's own, because the queue's
 * per-job operations must not reach them. `cancelJob` would drop (or stop retrying) the
 * `job.cancelled` delivery and a retried job's earlier ones, and `recover` would count a
 * delivery waiting for its next attempt as live document work.
 */
export const webhookQueueJobId = (jobId: string): string => `${jobId}:webhooks`;

/** `:r<n>` for work of retry generation `n` (nothing for the first run). */
const generation = (retry: number): string => (retry > 0 ? `:r${retry}` : '');

/**
 * Task ids are derived, so enqueueing the same work twice is a no-op (the queue dedupes by id).
 * A retry (`Engine.retry`) reruns work whose ids exist already: its tasks carry the job's retry
 * generation as a suffix, so each generation is fresh once and deduped within itself.
 */
export const taskIds = {
  inspect: (jobId: string, documentId: string, retry = 0) => `${jobId}:${documentId}:inspect${generation(retry)}`,
  extract: (jobId: string, documentId: string, index: number, retry = 0) => `${jobId}:${documentId}:chunk:${index}${generation(retry)}`,
  merge: (jobId: string, documentId: string, retry = 0) => `${jobId}:${documentId}:merge${generation(retry)}`,
  /** One delivery per terminal event: enqueued again (recovery) it is the same task. */
  webhook: (jobId: string, seq: number) => `${jobId}:webhook:${seq}`,
};
