import type { ErrorInfo } from '../errors.ts';
import type { EventType, NewEvent, ReamEvent } from '../events/types.ts';
import type { DocumentStatus, JobCounts } from './job-document-store.ts';

/** A job's document ending, as {@link EventStore.appendDocumentEnd} records it with its event. */
export interface DocumentEnd {
  jobId: string;
  documentId: string;
  status: DocumentStatus;
  /** Left as it is when undefined. */
  error?: ErrorInfo | null;
  finishedAt: number;
  /** The statuses it ends from; by default the unfinished ones (`queued`, `running`). */
  ifStatusIn?: readonly DocumentStatus[];
}

/** A job's events, the replayable history behind live progress. Contract: test/conformance/store-events.ts. */
export interface EventStore {
  /**
   * Assigns the next `seq` of the event's job and stores the event, atomically: per job, seqs
   * are gapless from 1 however many processes append at once, and a failed append uses no
   * number. An unknown job is `not_found`.
   */
  appendEvent(event: NewEvent): Promise<ReamEvent>;
  /**
   * Ends the job's document and stores the event that says so (the event's job), in one
   * transaction: the status changes only if it is one of `ifStatusIn`, and only then is the event
   * stored. Answers the stored event, or undefined when the document had ended already (or is not
   * the job's): nothing changed, no seq used. Two steps, a process killed between them left the
   * document ended with no event ever (a repeat of its task finds it ended), and another
   * document's task could close the job in between, its `job.*` event stored before this one: a
   * follower that stops at the job's end missed it.
   *
   * `event` may be made from the job's counts instead (its progress), read in the transaction once
   * the document has ended and the job row's lock is held: every other document's end stored
   * before this one is counted. Counts read before the transaction missed the ends of documents
   * of other workers committed meanwhile: of 20 ending at once, the last event said 1 of 20 done.
   */
  appendDocumentEnd(end: DocumentEnd, event: NewEvent | ((counts: JobCounts) => NewEvent)): Promise<ReamEvent | undefined>;
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
