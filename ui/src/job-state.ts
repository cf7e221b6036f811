// What the job page knows of each document, folded from the job's events as they stream in.
// A relative path, not the @client alias: the console's logic tests import this file under the main tsconfig.
import type { JobDocumentView, ReamEvent } from '../../src/client/index.ts';

/** `attempts`: of the chunk's task, when the event said (servers before it did not). */
export type ChunkState = { state: 'done' | 'failed'; from: number; to: number; message: string; at: number; attempts?: number };

export interface DocumentState {
  id: string;
  status: 'running' | 'succeeded' | 'failed' | 'cancelled';
  chunks: Map<number, ChunkState>;
  error: string;
  /** Epoch ms of its first event, for its pages/s. */
  startedAt: number;
  lastAt: number;
}

export type DocumentStates = ReadonlyMap<string, DocumentState>;

/** The documents' states after `event` (a new map when it changed one, else the same). */
export function foldEvent(documents: DocumentStates, event: ReamEvent): DocumentStates {
  return foldEvents(documents, [event]);
}

/**
 * The documents' states after `events`, in order: one new map for the whole batch (else the
 * same). A job's page replays every event of a long job at once (thousands), so they are folded
 * a batch at a time: copying the map per event made the replay quadratic in the documents.
 */
export function foldEvents(documents: DocumentStates, events: readonly ReamEvent[]): DocumentStates {
  let map: Map<string, DocumentState> | undefined;
  for (const event of events) {
    const id = event.documentId;
    if (id === undefined) continue;
    map ??= new Map(documents);
    const previous = map.get(id);
    const next: DocumentState = previous
      ? { ...previous, chunks: new Map(previous.chunks), lastAt: event.at }
      : { id, status: 'running', chunks: new Map(), error: '', startedAt: event.at, lastAt: event.at };
    const message = event.error ? `${event.error.message} (${event.error.code})` : event.message ?? '';
    if (event.chunk !== undefined && (event.type === 'chunk.completed' || event.type === 'chunk.failed')) {
      next.chunks.set(event.chunk.index, {
        state: event.type === 'chunk.completed' ? 'done' : 'failed', from: event.chunk.from, to: event.chunk.to, message, at: event.at,
        ...(event.attempt === undefined ? {} : { attempts: event.attempt }),
      });
    }
    if (event.type === 'document.started') next.status = 'running';
    if (event.type === 'document.completed') next.status = 'succeeded';
    if (event.type === 'document.cancelled') next.status = 'cancelled';
    if (event.type === 'document.failed') {
      next.status = 'failed';
      next.error = message;
    }
    map.set(id, next);
  }
  return map ?? documents;
}

/** Seconds until a document's last page at its rate so far; null without a rate or a page count. */
export function etaOf(pages: number, total: number | null, perSecond: number | null): number | null {
  if (total === null || perSecond === null || perSecond <= 0 || pages >= total) return null;
  return Math.ceil((total - pages) / perSecond);
}

/** Pages read so far and the rate, from the chunks that finished. */
export function pagesOf(document: DocumentState): { pages: number; perSecond: number | null } {
  let pages = 0;
  for (const chunk of document.chunks.values()) if (chunk.state === 'done') pages += chunk.to - chunk.from;
  const seconds = (document.lastAt - document.startedAt) / 1000;
  return { pages, perSecond: seconds > 0 ? pages / seconds : null };
}

/** One row of the job page: a document from the listing or the events, whichever knows it. */
export interface DocumentRow {
  id: string;
  /** `''` while unknown (a document only seen in events, its name still being read). */
  name: string;
  status: JobDocumentView['status'];
  /** Ended with a result to look at (succeeded, partially or not at all; a cancelled one may have none). */
  done: boolean;
  /** Pages in the document, once inspected. */
  pagesTotal: number | null;
  /** Its chunks, once planned: the chunk map shows every one from the start. */
  chunksTotal: number | null;
  /** Why it failed, as `message (code)`; `''` when it did not. */
  error: string;
  state: DocumentState | undefined;
}

const ENDED: ReadonlySet<string> = new Set(['succeeded', 'partially_succeeded', 'failed', 'cancelled']);

/**
 * The rows in input order: the listed documents first (queued ones included, which no event has
 * named yet), then those running that the listing does not hold (past the pages read so far),
 * from the events; ended ones past the pages read wait for Show more, or the events of a long
 * job (replayed from its start) would list every document at once. Status: an end the listing
 * saw (events may lag a poll; only the listing knows a partial success), else the live events',
 * else the listing's. No document's result is read for this: one result is read when its page opens.
 * `pastListing: false` (a job that has ended, whose replayed events only seem to run): the listed ones only.
 */
export function documentRows(listed: readonly JobDocumentView[], states: DocumentStates, pastListing = true): DocumentRow[] {
  const byId = new Map(listed.map((doc) => [doc.id, doc]));
  const running = pastListing ? [...states.values()].filter((state) => state.status === 'running' && !byId.has(state.id)).map((state) => state.id) : [];
  const ids = [...byId.keys(), ...running];
  return ids.map((id) => {
    const doc = byId.get(id);
    const state = states.get(id);
    const status = doc && ENDED.has(doc.status) ? doc.status : (state?.status ?? doc?.status ?? 'running');
    const error = doc?.error ? `${doc.error.message} (${doc.error.code})` : (state?.error ?? '');
    return {
      id, name: doc?.name ?? '', status, done: ENDED.has(status) && status !== 'cancelled',
      pagesTotal: doc?.pagesTotal ?? null, chunksTotal: doc?.chunksTotal ?? null, error, state,
    };
  });
}

/**
 * The listing after a fresh read of its first `fresh.length` documents: those replace what was
 * read before, and the documents read past them (later pages) are kept as they were.
 */
export function mergeListing(previous: readonly JobDocumentView[], fresh: readonly JobDocumentView[]): JobDocumentView[] {
  const ids = new Set(fresh.map((doc) => doc.id));
  return [...fresh, ...previous.filter((doc) => !ids.has(doc.id) && doc.ordinal > (fresh.at(-1)?.ordinal ?? -1))];
}
