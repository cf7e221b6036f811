import type { ErrorInfo } from '../errors.ts';

/** DESIGN.md §7: progress is counted in pages as well as documents, the same everywhere. */
export interface Progress {
  documentsDone: number;
  documentsTotal: number;
  pagesDone: number;
  pagesTotal: number;
  /**
   * 0–100, by pages when page counts are known, else by documents. While some documents are not
   * counted yet (`documentsUncounted`), each is taken to have the average page count of those
   * that are.
   */
  percent: number;
  /** Seconds left at the current page rate (over the pages estimated as `percent` is); `null` until there is a rate to go by. */
  etaSeconds: number | null;
  /** Documents whose pages are not counted yet (not inspected): `pagesTotal` will still grow. Absent when 0. */
  documentsUncounted?: number;
  /** Jobs of the `rows` pipeline: data rows done and in all (a table's rows are its pages). */
  rows?: { done: number; total: number };
}

export const EVENT_TYPES = [
  'job.queued',
  'job.started',
  'document.started',
  'stage.completed',
  'chunk.completed',
  'chunk.failed',
  'document.completed',
  'document.failed',
  'document.cancelled',
  'job.progress',
  'job.completed',
  'job.failed',
  'job.cancelled',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The events that end a job (until a retry or a new document reopens it): followers stop at one. */
export const TERMINAL_EVENT_TYPES: ReadonlySet<EventType> = new Set<EventType>(['job.completed', 'job.failed', 'job.cancelled']);

export function isTerminalEventType(type: string): boolean {
  return (TERMINAL_EVENT_TYPES as ReadonlySet<string>).has(type);
}

export interface ChunkRef {
  index: number;
  /** First page, 0-based, inclusive. */
  from: number;
  /** Last page, 0-based, exclusive. */
  to: number;
}

/** A typed, sequenced record of progress. `seq` is per job and gapless, starting at 1. */
export interface ReamEvent {
  seq: number;
  type: EventType;
  jobId: string;
  tenantId: string;
  documentId?: string;
  chunk?: ChunkRef;
  stage?: string;
  /** Epoch ms. */
  at: number;
  progress: Progress;
  message?: string;
  error?: ErrorInfo;
  /** Chunk events: the attempt of the chunk's task that ended it (1 on a first try; more after retries). */
  attempt?: number;
}

/** What a producer hands to the store, which assigns `seq`. */
export type NewEvent = Omit<ReamEvent, 'seq'>;
