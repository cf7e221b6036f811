import type { ChunkRef } from '../events/types.ts';

/** The kinds of task the engine schedules, one per unit of work that can run anywhere. */
export const TASK_KINDS = {
  /** validate + chunk: identify and inspect the file, then fan out its chunks. */
  inspect: 'document.inspect',
  /** extract + analyze one page range; its checkpoint is the chunk result. */
  extract: 'chunk.extract',
  /** merge chunks in page order, index, complete the document. Waits for its chunks (a flow). */
  merge: 'document.merge',
} as const;

export interface DocumentPayload {
  documentId: string;
  /** The job's retry generation this task belongs to (absent or 0: the first run). */
  retry?: number;
}

export interface ChunkPayload extends DocumentPayload {
  chunk: ChunkRef;
}

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
};
