import type { ChunkAnalysis, Fields, TokenUsage } from '../analyzers/port.ts';
import { addUsage, NO_USAGE } from '../analyzers/store/port.ts';
import type { ChunkRef } from '../events/types.ts';
import type { PageFailure, PageText, PageWarning } from '../formats/types.ts';
import { fromJson, type JsonValue } from '../json.ts';
import type { ChunkResultRecord } from '../store/port.ts';

/** What one chunk task stores as its checkpoint. */
export interface ChunkOutput {
  pages: PageText[];
  failures: PageFailure[];
  /** Absent in checkpoints written before warnings existed, and when there are none. */
  warnings?: PageWarning[];
  fields: Fields;
  /** Per analyzer with data of its own (`analyzeChunk`): its data and usage for this chunk. */
  analyses?: Record<string, { data?: JsonValue; usage?: TokenUsage }>;
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

/**
 * A chunk of `plan` with no checkpoint: it ended without its task recording anything (a worker
 * died on its last attempt), so its pages are failed pages too.
 */
export function missingChunk(ref: ChunkRef): ChunkResultRecord {
  return {
    jobId: '', documentId: '', index: ref.index, from: ref.from, to: ref.to, status: 'failed', output: null, durationMs: 0,
    error: { code: 'internal', message: 'the chunk has no result: its worker died during the last attempt' },
  };
}

/** The failure of every page of a chunk that failed for good, with the chunk's error. */
export function failedChunkPages(chunk: ChunkResultRecord): PageFailure[] {
  const code = chunk.error?.code ?? 'internal';
  const message = chunk.error?.message ?? 'chunk failed';
  return Array.from({ length: chunk.to - chunk.from }, (_, i) => ({ page: chunk.from + i + 1, code, message }));
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
  readonly #fields: Fields = {};
  readonly #analyses: Record<string, ChunkAnalysis[]> = {};
  #pagesRead = 0;
  #usage = NO_USAGE;

  constructor(keepPages = true) {
    this.#keepPages = keepPages;
  }

  /** Adds a chunk; returns its output (parsed once, for a caller that wants its pages too), none for a failed chunk. */
  add(chunk: ChunkResultRecord): ChunkOutput | undefined {
    if (chunk.status === 'failed' || chunk.output === null) {
      this.#failedPages.push(...failedChunkPages(chunk));
      return undefined;
    }
    const output = fromJson<ChunkOutput>(chunk.output);
    this.#pagesRead += output.pages.length;
    this.#failedPages.push(...output.failures);
    this.#warnings.push(...(output.warnings ?? []));
    for (const [name, matches] of Object.entries(output.fields)) {
      const kept = (this.#fields[name] ??= []);
      if (this.#keepPages) kept.push(...matches);
    }
    if (this.#keepPages) this.#pages.push(...output.pages);
    for (const [name, analysis] of Object.entries(output.analyses ?? {})) {
      (this.#analyses[name] ??= []).push({ index: chunk.index, from: chunk.from, to: chunk.to, ...(analysis.data === undefined ? {} : { data: analysis.data }) });
      if (analysis.usage) this.#usage = addUsage(this.#usage, analysis.usage);
    }
    return output;
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
  for (const chunk of [...chunks, ...plan.filter((ref) => !byIndex.has(ref.index)).map(missingChunk)]) merger.add(chunk);
  return merger.result();
}
