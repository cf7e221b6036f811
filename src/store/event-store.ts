import type { EventType, NewEvent, ReamEvent } from '../events/types.ts';

/** A job's events, the replayable history behind live progress. Contract: test/conformance/store-events.ts. */
export interface EventStore {
  /**
   * Assigns the next `seq` of the event's job and stores the event, atomically: per job, seqs
   * are gapless from 1 however many processes append at once, and a failed append uses no
   * number. An unknown job is `not_found`.
   */
  appendEvent(event: NewEvent): Promise<ReamEvent>;
  /** The job's events with `seq > afterSeq`, in seq order, at most `limit` (default 1,000, at most 10,000). */
  listEvents(jobId: string, afterSeq: number, limit?: number): Promise<ReamEvent[]>;
  /**
   * Failure events (`chunk.failed`, `document.failed`) at or after `since` (epoch ms), newest
   * first, of one tenant or (no `tenantId`) every tenant's, at most `limit` (at most 10,000).
   */
  listFailureEvents(query: { tenantId?: string; since: number; limit: number }): Promise<ReamEvent[]>;
  /** Whether the job has an event of `type` about the document (a step repeated after a crash asks before saying it again). */
  hasDocumentEvent(jobId: string, type: EventType, documentId: string): Promise<boolean>;
  /** Whether the job has an event of `type` about the document's chunk `index` (the same, for a chunk). */
  hasChunkEvent(jobId: string, type: EventType, documentId: string, index: number): Promise<boolean>;
}
