// A document's result as readers get it (`Ream.results`, `Ream.documentResult`, the API's
// results routes): the one its merge stored when it ended by itself; for one cancelled before its
// merge, one made from what it had read. "Results already made stay readable" (DESIGN §6): the
// chunks read before a cancel are kept, and the pages never read are listed as failed with
// `cancelled`. Made when asked rather than stored at cancel, so a cancel of a thousand documents
// does not merge a thousand, and what a tenant is charged (from stored results) does not change.
import { fromJson } from '../json.ts';
import { planChunks } from '../pipeline/chunk-planner.ts';
import { CANCELLED_UNREAD, ChunkMerger, missingChunk } from '../pipeline/merge.ts';
import type { DocumentOutput, Pipeline } from '../pipeline/types.ts';
import type { DocumentRecord, JobDocumentRecord, Store } from '../store/port.ts';
import type { Inspection, PageWarning } from '../formats/types.ts';

/** What inspection stores on the job document, read back by later tasks. */
export interface DocumentInfo {
  mediaType: string;
  metadata: Inspection['metadata'];
  /** Found at inspection, not by reading pages (an attachment refused by a limit); joined to the result's. */
  warnings?: PageWarning[];
}

/**
 * Cells (rows × columns) a table's result lists at most, whatever `maxPagesInResult` allows: a
 * table of 600 rows of 10,000 columns, listed whole, held 1.9 GB while its result was made.
 */
export const MAX_CELLS_IN_RESULT = 1_000_000;

/**
 * Whether the result of `jobDoc` lists its pages: at most the pipeline's `maxPagesInResult` of
 * them, and for a table (its columns known from inspection) at most {@link MAX_CELLS_IN_RESULT}
 * cells. Otherwise they stay in the chunks' checkpoints (`pagesOmitted`).
 */
export function keepsPagesInResult(pipeline: Pick<Pipeline, 'maxPagesInResult'>, jobDoc: Pick<JobDocumentRecord, 'pagesTotal' | 'info'>): boolean {
  const pages = jobDoc.pagesTotal ?? 0;
  if (pages > (pipeline.maxPagesInResult ?? Infinity)) return false;
  if (pipeline.maxPagesInResult === undefined) return true;
  const columns = fromJson<DocumentInfo | null>(jobDoc.info)?.metadata.columns?.length ?? 0;
  return pages * Math.max(1, columns) <= MAX_CELLS_IN_RESULT;
}

/**
 * Cells (rows × columns) a table's chunk reads at most: a chunk of 1,500 rows of 10,000 columns
 * held 596 MB in its thread, over the thread's cap, and every row failed with `resource_limit`.
 */
export const MAX_CELLS_PER_CHUNK = 1_000_000;

/**
 * Pages per chunk of a document: the pipeline's, fewer for a table so wide (its columns known
 * from inspection, `metadata`) that a chunk would read over {@link MAX_CELLS_PER_CHUNK} cells.
 * Every plan of the document's chunks (at inspection, on a repeat, at the merge) uses this.
 */
export function documentChunkPages(pipeline: Pick<Pipeline, 'chunkPages'>, metadata: Inspection['metadata'] | undefined): number {
  const columns = metadata?.columns?.length ?? 0;
  if (columns === 0) return pipeline.chunkPages;
  return Math.max(1, Math.min(pipeline.chunkPages, Math.floor(MAX_CELLS_PER_CHUNK / columns)));
}

/**
 * The pages per chunk of a document that was inspected: those of the plan its inspection
 * recorded (`chunksTotal` chunks of `pagesTotal` pages, which {@link planChunks} splits alike
 * again), so that a repeat or a merge finds the chunks that were made even where this version
 * would plan them otherwise (a job inspected before a table's chunks were held to
 * {@link MAX_CELLS_PER_CHUNK}); else as {@link documentChunkPages} plans them.
 */
export function inspectedChunkPages(pipeline: Pick<Pipeline, 'chunkPages'>, jobDoc: Pick<JobDocumentRecord, 'info' | 'pagesTotal' | 'chunksTotal'>): number {
  const { pagesTotal, chunksTotal } = jobDoc;
  if (pagesTotal !== null && chunksTotal !== null && pagesTotal > 0 && chunksTotal > 0) return Math.ceil(pagesTotal / chunksTotal);
  return documentChunkPages(pipeline, fromJson<DocumentInfo | null>(jobDoc.info)?.metadata);
}

/** The fields every result of the document has, whatever became of it. */
export function outputBase(jobDoc: JobDocumentRecord, doc: DocumentRecord): Pick<DocumentOutput, 'documentId' | 'parentId' | 'source' | 'sha256' | 'size'> {
  return { documentId: doc.id, ...(jobDoc.parentId === undefined ? {} : { parentId: jobDoc.parentId }), source: jobDoc.source, sha256: doc.sha256, size: doc.size };
}

/**
 * The result of `jobDoc`, a document of a job run by `pipeline`: the stored one, or for a
 * cancelled document without one, the chunks it read; none while it runs.
 */
export async function documentOutput(
  store: Pick<Store, 'getDocumentResult' | 'getDocument' | 'getChunkResult'>,
  pipeline: () => Promise<Pipeline>,
  jobDoc: JobDocumentRecord,
): Promise<DocumentOutput | undefined> {
  const stored = await store.getDocumentResult(jobDoc.jobId, jobDoc.documentId);
  if (stored) return fromJson<DocumentOutput>(stored.output);
  if (jobDoc.status !== 'cancelled') return undefined;
  const doc = await store.getDocument(jobDoc.documentId, { deleted: true });
  if (!doc) return undefined;
  const run = await pipeline();
  const pagesTotal = jobDoc.pagesTotal;
  const keepPages = keepsPagesInResult(run, jobDoc);
  const merger = new ChunkMerger(keepPages);
  for (const ref of pagesTotal === null ? [] : planChunks(pagesTotal, inspectedChunkPages(run, jobDoc))) {
    const chunk = await store.getChunkResult(jobDoc.jobId, jobDoc.documentId, ref.index, keepPages ? undefined : { withoutBody: true });
    merger.add(chunk ?? missingChunk(ref, CANCELLED_UNREAD));
  }
  const merged = merger.result();
  const info = fromJson<DocumentInfo | null>(jobDoc.info);
  const warnings = [...(info?.warnings ?? []), ...merged.warnings].sort((a, b) => a.page - b.page);
  return {
    ...outputBase(jobDoc, doc),
    mediaType: info?.mediaType ?? doc.mediaType,
    status: 'cancelled', pageCount: pagesTotal, metadata: info?.metadata ?? null,
    pages: merged.pages, fields: merged.fields, ...(keepPages ? {} : { pagesOmitted: true as const }), failedPages: merged.failedPages,
    ...(warnings.length > 0 ? { warnings } : {}),
    error: jobDoc.error ?? { code: 'cancelled', message: 'cancelled' },
    ...(merged.usage.calls + merged.usage.cachedCalls > 0 ? { usage: merged.usage } : {}),
  };
}
