// What the job page knows of each document, folded from the job's events as they stream in.
// A relative path, not the @client alias: the console's logic tests import this file under the main tsconfig.
import type { ReamEvent } from '../../src/client/index.ts';

export type ChunkState = { state: 'done' | 'failed'; from: number; to: number; message: string; at: number };

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
  const id = event.documentId;
  if (id === undefined) return documents;
  const previous = documents.get(id);
  const next: DocumentState = previous
    ? { ...previous, chunks: new Map(previous.chunks), lastAt: event.at }
    : { id, status: 'running', chunks: new Map(), error: '', startedAt: event.at, lastAt: event.at };
  const message = event.error ? `${event.error.message} (${event.error.code})` : event.message ?? '';
  if (event.chunk !== undefined && (event.type === 'chunk.completed' || event.type === 'chunk.failed')) {
    next.chunks.set(event.chunk.index, { state: event.type === 'chunk.completed' ? 'done' : 'failed', from: event.chunk.from, to: event.chunk.to, message, at: event.at });
  }
  if (event.type === 'document.started') next.status = 'running';
  if (event.type === 'document.completed') next.status = 'succeeded';
  if (event.type === 'document.cancelled') next.status = 'cancelled';
  if (event.type === 'document.failed') {
    next.status = 'failed';
    next.error = message;
  }
  const map = new Map(documents);
  map.set(id, next);
  return map;
}

/** Pages read so far and the rate, from the chunks that finished. */
export function pagesOf(document: DocumentState): { pages: number; perSecond: number | null } {
  let pages = 0;
  for (const chunk of document.chunks.values()) if (chunk.state === 'done') pages += chunk.to - chunk.from;
  const seconds = (document.lastAt - document.startedAt) / 1000;
  return { pages, perSecond: seconds > 0 ? pages / seconds : null };
}
