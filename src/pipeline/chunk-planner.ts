import type { ChunkRef } from '../events/types.ts';

/**
 * Splits `pageCount` pages into `[from, to)` ranges of at most `chunkPages` pages, balanced so
 * no chunk is tiny (100 pages at 32 → 25+25+25+25, not 32+32+32+4): the last chunk decides
 * when a document finishes, so equal chunks finish together.
 */
export function planChunks(pageCount: number, chunkPages: number): ChunkRef[] {
  if (!Number.isInteger(chunkPages) || chunkPages < 1) throw new RangeError(`chunkPages must be a positive integer, got ${chunkPages}`);
  if (pageCount <= 0) return [];
  const count = Math.ceil(pageCount / chunkPages);
  const base = Math.floor(pageCount / count);
  const extra = pageCount % count;
  const chunks: ChunkRef[] = [];
  let from = 0;
  for (let index = 0; index < count; index++) {
    const size = base + (index < extra ? 1 : 0);
    chunks.push({ index, from, to: from + size });
    from += size;
  }
  return chunks;
}
