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
  pages: PageText[];
  fields: Fields;
  failedPages: PageFailure[];
  warnings: PageWarning[];
  /** Per analyzer: each chunk's data, in page order (a failed chunk has none). */
  analyses: Record<string, ChunkAnalysis[]>;
  /** Summed over the chunks. */
  usage: TokenUsage;
}

/**
 * Assembles a document from its chunk checkpoints in page order. A chunk that failed for good
 * contributes one failure per page it covered, with the chunk's error, and so does a chunk of
 * `plan` that has no checkpoint at all: every missing page is accounted for, never dropped.
 */
export function mergeChunks(chunks: readonly ChunkResultRecord[], plan: readonly ChunkRef[] = []): MergedDocument {
  const byIndex = new Map(chunks.map((chunk) => [chunk.index, chunk]));
  // A planned chunk with no checkpoint ended without its task recording anything (a worker died
  // on its last attempt): its pages are failed pages too.
  const missing: ChunkResultRecord[] = plan.filter((ref) => !byIndex.has(ref.index)).map((ref) => ({
    jobId: '', documentId: '', index: ref.index, from: ref.from, to: ref.to, status: 'failed', output: null, durationMs: 0,
    error: { code: 'internal', message: 'the chunk has no result: its worker died during the last attempt' },
  }));
  const ordered = [...chunks, ...missing].sort((a, b) => a.from - b.from);
  const pages: PageText[] = [];
  const failedPages: PageFailure[] = [];
  const warnings: PageWarning[] = [];
  const fields: Fields = {};
  const analyses: Record<string, ChunkAnalysis[]> = {};
  let usage = NO_USAGE;
  for (const chunk of ordered) {
    if (chunk.status === 'failed' || chunk.output === null) {
      const code = chunk.error?.code ?? 'internal';
      const message = chunk.error?.message ?? 'chunk failed';
      for (let page = chunk.from + 1; page <= chunk.to; page++) failedPages.push({ page, code, message });
      continue;
    }
    const output = fromJson<ChunkOutput>(chunk.output);
    pages.push(...output.pages);
    failedPages.push(...output.failures);
    warnings.push(...(output.warnings ?? []));
    for (const [name, matches] of Object.entries(output.fields)) {
      (fields[name] ??= []).push(...matches);
    }
    for (const [name, analysis] of Object.entries(output.analyses ?? {})) {
      (analyses[name] ??= []).push({ index: chunk.index, from: chunk.from, to: chunk.to, ...(analysis.data === undefined ? {} : { data: analysis.data }) });
      if (analysis.usage) usage = addUsage(usage, analysis.usage);
    }
  }
  pages.sort((a, b) => a.page - b.page);
  failedPages.sort((a, b) => a.page - b.page);
  warnings.sort((a, b) => a.page - b.page);
  for (const matches of Object.values(fields)) matches.sort((a, b) => a.page - b.page);
  return { pages, fields, failedPages, warnings, analyses, usage };
}
