import type { ChunkAnalysis, Fields, TokenUsage } from '../analyzers/port.ts';
import { addUsage, NO_USAGE } from '../analyzers/store/port.ts';
import type { ChunkRef } from '../events/types.ts';
import type { ErrorInfo } from '../errors.ts';
import { tableRow } from '../formats/sheet/cells.ts';
import type { PageFailure, PageText, PageWarning, StoredRow } from '../formats/types.ts';
import { fromJson, type JsonValue } from '../json.ts';
import type { ChunkResultRecord } from '../store/port.ts';

/** What one chunk task makes: its pages, failures, warnings and fields. */
export interface ChunkOutput {
  pages: PageText[];
  failures: PageFailure[];
  /** Absent in checkpoints written before warnings existed, and when there are none. */
  warnings?: PageWarning[];
  fields: Fields;
  /** Per analyzer with data of its own (`analyzeChunk`): its data and usage for this chunk. */
  analyses?: Record<string, { data?: JsonValue; usage?: TokenUsage }>;
}

/**
 * A chunk's checkpoint as stored: what is small (failures, warnings, analyses, the field names
 * and the count of pages) as JSON, and what is big — the pages and each field's matches — as
 * one JSON text inside it (`body`). The merge of a long table, which keeps none of its pages,
 * then reads a checkpoint without building its rows: a batch of 2,000 rows was parsed twice
 * (merge, then writer), and parsing was the largest cost left on the main thread.
 */
export interface PackedChunkOutput {
  failures: PageFailure[];
  warnings?: PageWarning[];
  analyses?: ChunkOutput['analyses'];
  /** Every field the analyzers reported on, found or not. */
  fieldNames: string[];
  pagesRead: number;
  /** JSON text of `{ pages, fields }` ({@link unpackChunk}). */
  body: string;
  /** The rows as the CSV records `ream rows` writes, when the job asked for them (`ReadOptions.tableCsv`). */
  csv?: string;
}

/** A stored checkpoint: packed, or (written before packing) plain. */
export type StoredChunkOutput = ChunkOutput | PackedChunkOutput;

/** True for a packed checkpoint, with its `body` or read without it (`getChunkResult`'s `withoutBody`). */
function isPacked(stored: StoredChunkOutput | Omit<PackedChunkOutput, 'body'>): stored is PackedChunkOutput {
  return 'pagesRead' in stored;
}

/** The checkpoint to store for `output` (see {@link PackedChunkOutput}). */
export function packChunk({ pages, fields, ...small }: ChunkOutput): PackedChunkOutput {
  return { ...small, fieldNames: Object.keys(fields), pagesRead: pages.length, body: JSON.stringify({ pages, fields }) };
}

/**
 * A packed body as parsed. Rows packed where they were read (formats/sheet/packed-rows.ts) are
 * stored as their values, with the body's `columns`: their cells and text are made again here.
 */
type PackedBody = { pages: PageText[]; fields: Fields; columns?: undefined } | { pages: StoredRow[]; fields: Fields; columns: string[] };

/** The whole of a stored checkpoint, its pages and matches parsed. */
export function unpackChunk(stored: StoredChunkOutput): ChunkOutput {
  if (!isPacked(stored)) return stored;
  // `csv` is of these rows as read: a chunk whose pages are redone is stored without it.
  const { body, fieldNames: _names, pagesRead: _count, csv: _csv, ...small } = stored;
  const packed = JSON.parse(body) as PackedBody;
  const { columns } = packed;
  const pages = columns === undefined ? packed.pages : packed.pages.map(({ page, values }) => tableRow(page, columns, values));
  return { ...small, pages, fields: packed.fields };
}

export interface MergedDocument {
  /** Empty when the merge was told not to keep pages (see {@link ChunkMerger}). */
  pages: PageText[];
  /** Pages read, kept or not. */
  pagesRead: number;
  /** Without matches when pages are not kept (each field found, its matches left with their chunks). */
  fields: Fields;
  failedPages: PageFailure[];
  warnings: PageWarning[];
  /** Per analyzer: each chunk's data, in page order (a failed chunk has none). */
  analyses: Record<string, ChunkAnalysis[]>;
  /** Summed over the chunks. */
  usage: TokenUsage;
}

/** Why a chunk of a document that ended by itself has no checkpoint: its task never recorded one. */
export const WORKER_DIED: ErrorInfo = { code: 'internal', message: 'the chunk has no result: its worker died during the last attempt' };
/** Why a chunk of a cancelled document has no checkpoint. */
export const CANCELLED_UNREAD: ErrorInfo = { code: 'cancelled', message: 'the document was cancelled before this chunk was read' };

/** Why a chunk of a document in `status` has no checkpoint. */
export function unreadReason(status: string): ErrorInfo {
  return status === 'cancelled' ? CANCELLED_UNREAD : WORKER_DIED;
}

/**
 * A chunk of `plan` with no checkpoint: it ended without its task recording anything (a worker
 * died on its last attempt, or the document was cancelled first), so its pages are failed pages too.
 */
export function missingChunk(ref: ChunkRef, why: ErrorInfo = WORKER_DIED): ChunkResultRecord {
  return {
    jobId: '', documentId: '', index: ref.index, from: ref.from, to: ref.to, status: 'failed', output: null, durationMs: 0,
    error: why,
  };
}

/** The failure of every page of a chunk that failed for good, with the chunk's error. */
export function failedChunkPages(chunk: ChunkResultRecord): PageFailure[] {
  const code = chunk.error?.code ?? 'internal';
  const message = chunk.error?.message ?? 'chunk failed';
  return Array.from({ length: chunk.to - chunk.from }, (_, i) => ({ page: chunk.from + i + 1, code, message }));
}

/**
 * Appends `items` to `target` one by one: `push(...items)` passes every item as an argument, and
 * a chunk of 400,000 failed rows overflowed the stack.
 */
function append<T>(target: T[], items: readonly T[]): void {
  for (const item of items) target.push(item);
}

/**
 * Assembles a document from its chunk checkpoints, given one at a time. A chunk that failed for
 * good contributes one failure per page it covered, with the chunk's error: every page is
 * accounted for, never dropped. With `keepPages` false only what is small is kept (failures,
 * warnings, usage, the count of pages read), so a table of a million rows merges in flat memory
 * while its rows stay in their checkpoints.
 */
export class ChunkMerger {
  readonly #keepPages: boolean;
  readonly #pages: PageText[] = [];
  readonly #failedPages: PageFailure[] = [];
  readonly #warnings: PageWarning[] = [];
  // Without a prototype: a field or analyzer named `constructor` or `__proto__` is a name like any other.
  readonly #fields: Fields = Object.create(null) as Fields;
  readonly #analyses: Record<string, ChunkAnalysis[]> = Object.create(null) as Record<string, ChunkAnalysis[]>;
  #pagesRead = 0;
  #usage = NO_USAGE;

  constructor(keepPages = true) {
    this.#keepPages = keepPages;
  }

  /**
   * Adds a chunk; returns its stored output (for a caller that wants its pages too:
   * {@link unpackChunk}), none for a failed chunk. Its pages are parsed only when kept; when they
   * are not, a packed checkpoint may come without its `body` (`getChunkResult`'s `withoutBody`).
   */
  add(chunk: ChunkResultRecord): StoredChunkOutput | undefined {
    if (chunk.status === 'failed' || chunk.output === null) {
      append(this.#failedPages, failedChunkPages(chunk));
      return undefined;
    }
    const stored = fromJson<StoredChunkOutput>(chunk.output);
    const output = this.#keepPages || !isPacked(stored) ? unpackChunk(stored) : undefined;
    this.#pagesRead += output ? output.pages.length : (stored as PackedChunkOutput).pagesRead;
    append(this.#failedPages, stored.failures);
    append(this.#warnings, stored.warnings ?? []);
    for (const name of output ? Object.keys(output.fields) : (stored as PackedChunkOutput).fieldNames) {
      const kept = (this.#fields[name] ??= []);
      if (this.#keepPages && output) append(kept, output.fields[name] ?? []);
    }
    if (this.#keepPages && output) append(this.#pages, output.pages);
    for (const [name, analysis] of Object.entries(stored.analyses ?? {})) {
      (this.#analyses[name] ??= []).push({ index: chunk.index, from: chunk.from, to: chunk.to, ...(analysis.data === undefined ? {} : { data: analysis.data }) });
      if (analysis.usage) this.#usage = addUsage(this.#usage, analysis.usage);
    }
    return output ?? stored;
  }

  /** Everything added, in page order. */
  result(): MergedDocument {
    const byPage = (a: { page: number }, b: { page: number }): number => a.page - b.page;
    for (const matches of Object.values(this.#fields)) matches.sort(byPage);
    for (const list of Object.values(this.#analyses)) list.sort((a, b) => a.from - b.from);
    return {
      pages: this.#pages.sort(byPage),
      pagesRead: this.#pagesRead,
      fields: this.#fields,
      failedPages: this.#failedPages.sort(byPage),
      warnings: this.#warnings.sort(byPage),
      analyses: this.#analyses,
      usage: this.#usage,
    };
  }
}

/** Merges a document's checkpoints at once (see {@link ChunkMerger}); a chunk of `plan` without one fails its pages. */
export function mergeChunks(chunks: readonly ChunkResultRecord[], plan: readonly ChunkRef[] = []): MergedDocument {
  const byIndex = new Set(chunks.map((chunk) => chunk.index));
  const merger = new ChunkMerger();
  for (const chunk of [...chunks, ...plan.filter((ref) => !byIndex.has(ref.index)).map((ref) => missingChunk(ref))]) merger.add(chunk);
  return merger.result();
}
