import type { Fields } from '../analyzers/port.ts';
import type { ChunkRef } from '../events/types.ts';
import type { PageFailure, PageText } from '../formats/types.ts';
import { fromJson } from '../json.ts';
import type { ChunkResultRecord } from '../store/port.ts';

/** What one chunk task stores as its checkpoint. */
export interface ChunkOutput {
  pages: PageText[];
  failures: PageFailure[];
  fields: Fields;
}

export interface MergedDocument {
  pages: PageText[];
  fields: Fields;
  failedPages: PageFailure[];
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
  const fields: Fields = {};
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
    for (const [name, matches] of Object.entries(output.fields)) {
      (fields[name] ??= []).push(...matches);
    }
  }
  pages.sort((a, b) => a.page - b.page);
  failedPages.sort((a, b) => a.page - b.page);
  for (const matches of Object.values(fields)) matches.sort((a, b) => a.page - b.page);
  return { pages, fields, failedPages };
}
