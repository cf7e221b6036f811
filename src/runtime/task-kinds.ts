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
}

export interface ChunkPayload extends DocumentPayload {
  chunk: ChunkRef;
}

/** Task ids are derived, so enqueueing the same work twice is a no-op (the queue dedupes by id). */
export const taskIds = {
  inspect: (jobId: string, documentId: string) => `${jobId}:${documentId}:inspect`,
  extract: (jobId: string, documentId: string, index: number) => `${jobId}:${documentId}:chunk:${index}`,
  merge: (jobId: string, documentId: string) => `${jobId}:${documentId}:merge`,
};
