import type { DocumentPageResult } from '../api-types.ts';
import type { Fields } from '../analyzers/port.ts';
import type { ErrorInfo } from '../errors.ts';
import { fromJson } from '../json.ts';
import { failedChunkPages, missingChunk, unpackChunk, type PackedChunkOutput, type StoredChunkOutput } from '../pipeline/merge.ts';
import type { ChunkRef } from '../events/types.ts';
import type { ChunkResultRecord, ChunkStateRecord, Store } from '../store/port.ts';
import { ownValue, setOwn } from '../own-keys.ts';

export type { DocumentPageResult } from '../api-types.ts';

/**
 * Which pages to read: the 1-based page numbers, ascending (a window of rows, or the rows of a
 * sorted view's window). Only the checkpoints that hold one of them are read.
 */
export interface PageSelection {
  pages: readonly number[];
}

/** Where a batch reader starts, and whether it takes only what is final while the job runs. */
export interface PageBatchOptions {
  /** Pages up to this one are skipped (a reader that has them already); default 0. */
  after?: number;
  /**
   * Only the succeeded checkpoints that follow `after` without a gap, stopping at the first chunk
   * not (yet) succeeded, which a running job may still store or retry: what a writer following
   * the job can take for good (no gap is reported as failed pages).
   */
  finishedOnly?: boolean;
  /** Why a chunk without a checkpoint was not read (`unreadReason` of the document's status); default: its worker died. */
  unread?: ErrorInfo;
}

/** Whether the ascending `pages` hold one in `(from, to]` (a checkpoint's 0-based bounds). */
function selectsAny(pages: readonly number[], from: number, to: number): boolean {
  let low = 0;
  let high = pages.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((pages[mid] ?? 0) <= from) low = mid + 1;
    else high = mid;
  }
  return low < pages.length && (pages[low] ?? 0) <= to;
}

/**
 * A document's pages in order, read from the chunk checkpoints one chunk at a time: what a long
 * table's result leaves out (`DocumentOutput.pagesOmitted`) with memory for one chunk only. A
 * page no checkpoint covers (its worker died on the last attempt) comes as a failure, as in the
 * result. `pagesTotal`: the document's page count (its job document's `pagesTotal`). With
 * `selection`, only its pages, and only the checkpoints holding them are read: rows 5,001–5,200
 * of a table cost one or two checkpoints, not the 5,000 rows before them.
 */
export async function* documentPages(
  store: Pick<Store, 'listChunkStates' | 'getChunkResult'>,
  jobId: string,
  documentId: string,
  pagesTotal: number,
  selection?: PageSelection,
  unread?: ErrorInfo,
): AsyncGenerator<DocumentPageResult> {
  for await (const batch of documentPageBatches(store, jobId, documentId, pagesTotal, selection, unread ? { unread } : {})) yield* batch;
}

/**
 * {@link documentPages} a checkpoint's pages at a time (a gap between checkpoints is a batch of
 * its own): for a reader of many rows, whom a step per row would cost more than the row does.
 * With `selection`, only its pages, from only the checkpoints that hold one of them.
 */
export async function* documentPageBatches(
  store: Pick<Store, 'listChunkStates' | 'getChunkResult'>,
  jobId: string,
  documentId: string,
  pagesTotal: number,
  selection?: PageSelection,
  { after = 0, finishedOnly = false, unread }: PageBatchOptions = {},
): AsyncGenerator<DocumentPageResult[]> {
  const wanted = selection ? new Set(selection.pages) : undefined;
  const picked = (pages: DocumentPageResult[]): DocumentPageResult[] => (wanted ? pages.filter((page) => wanted.has(page.page)) : pages);
  const inSelection = (from: number, to: number): boolean => !selection || selectsAny(selection.pages, from, to);
  for await (const step of checkpointSteps(store, jobId, documentId, pagesTotal, { after, finishedOnly })) {
    const ref = 'gap' in step ? step.gap : step.state;
    if (!inSelection(ref.from, ref.to)) continue;
    let chunk: ChunkResultRecord;
    if ('gap' in step) {
      chunk = missingChunk(step.gap, unread);
    } else {
      const stored = await store.getChunkResult(jobId, documentId, step.state.index);
      if (finishedOnly && stored?.status !== 'succeeded') return;
      chunk = stored ?? missingChunk(step.state, unread);
    }
    const pages = picked(pagesOf(chunk));
    if (pages.length > 0) yield pages;
  }
}

/**
 * A checkpoint's rows for a table writer: the CSV records its batch stored (`ReadOptions.tableCsv`)
 * with the count of rows and of failed rows, or its pages for the writer to lay out.
 */
export type TableBatch = { pages: DocumentPageResult[] } | { csv: string; to: number; rows: number; failedRows: number };

export interface TableBatchOptions extends PageBatchOptions {
  /**
   * A checkpoint's CSV records are taken when its fields are these, in this order (the table's
   * layout, see cli/rows-table.ts); without it, or for another checkpoint, its pages.
   */
  csvFields?: readonly string[];
}

/**
 * {@link documentPageBatches} for a table writer: a checkpoint with CSV records (read without
 * its body: no row is parsed) as those, any other as its pages.
 */
export async function* documentTableBatches(
  store: Pick<Store, 'listChunkStates' | 'getChunkResult'>,
  jobId: string,
  documentId: string,
  pagesTotal: number,
  { after = 0, finishedOnly = false, csvFields, unread }: TableBatchOptions = {},
): AsyncGenerator<TableBatch> {
  for await (const step of checkpointSteps(store, jobId, documentId, pagesTotal, { after, finishedOnly })) {
    if ('gap' in step) {
      yield { pages: pagesOf(missingChunk(step.gap, unread)) };
      continue;
    }
    const { state } = step;
    const small = csvFields ? await store.getChunkResult(jobId, documentId, state.index, { withoutBody: true, withCsv: true }) : undefined;
    const records = small && csvRecords(small, csvFields);
    if (records !== undefined) {
      yield records;
      continue;
    }
    const chunk = await store.getChunkResult(jobId, documentId, state.index);
    if (finishedOnly && chunk?.status !== 'succeeded') return;
    const pages = pagesOf(chunk ?? missingChunk(state, unread));
    if (pages.length > 0) yield { pages };
  }
}

/** The CSV records of a succeeded checkpoint whose fields are `fieldNames`; none for any other. */
function csvRecords(chunk: ChunkResultRecord, fieldNames: readonly string[] | undefined): TableBatch | undefined {
  if (chunk.status !== 'succeeded' || chunk.output === null || fieldNames === undefined) return undefined;
  const stored = fromJson<Partial<Omit<PackedChunkOutput, 'body'>>>(chunk.output);
  const names = stored.fieldNames;
  if (typeof stored.csv !== 'string' || typeof stored.pagesRead !== 'number' || !names || names.length !== fieldNames.length || names.some((name, i) => name !== fieldNames[i])) return undefined;
  // Every row is read or failed (formats/sheet/packed-rows.ts).
  const rows = chunk.to - chunk.from;
  return { csv: stored.csv, to: chunk.to, rows, failedRows: rows - stored.pagesRead };
}

/**
 * The walk every batch reader makes: the document's checkpoints after page `after`, in page order,
 * each preceded by the gap no checkpoint covers before it (a missing chunk, index -1), and the gap
 * up to `pagesTotal` last. `finishedOnly` (see {@link PageBatchOptions}): no gaps, and the walk
 * ends at the first checkpoint that does not follow the one before it or has not succeeded.
 */
async function* checkpointSteps(
  store: Pick<Store, 'listChunkStates'>,
  jobId: string,
  documentId: string,
  pagesTotal: number,
  { after = 0, finishedOnly = false }: PageBatchOptions,
): AsyncGenerator<{ gap: ChunkRef } | { state: ChunkStateRecord }> {
  let next = after + 1;
  for (const state of await store.listChunkStates(jobId, documentId)) {
    if (state.to <= after) continue;
    if (finishedOnly) {
      if (state.from !== next - 1 || state.status !== 'succeeded') return;
    } else if (next <= state.from) {
      yield { gap: { index: -1, from: next - 1, to: state.from } };
    }
    yield { state };
    next = Math.max(next, state.to + 1);
  }
  if (!finishedOnly && next <= pagesTotal) yield { gap: { index: -1, from: next - 1, to: pagesTotal } };
}

/** The pages `[from, to)` of one checkpoint, each with its text, fields, failure and warning. */
function pagesOf(chunk: ChunkResultRecord): DocumentPageResult[] {
  if (chunk.status === 'failed' || chunk.output === null) {
    return failedChunkPages(chunk).map((failure) => ({ page: failure.page, fields: {}, failure }));
  }
  const output = unpackChunk(fromJson<StoredChunkOutput>(chunk.output));
  const read = new Map(output.pages.map((page) => [page.page, page]));
  const failures = new Map(output.failures.map((failure) => [failure.page, failure]));
  const warnings = new Map((output.warnings ?? []).map((warning) => [warning.page, warning]));
  const fields = new Map<number, Fields>();
  for (const [name, matches] of Object.entries(output.fields)) {
    for (const match of matches) {
      const onPage = fields.get(match.page) ?? {};
      fields.set(match.page, onPage);
      // Own keys only: a field named `constructor` or `__proto__` is a name like any other (own-keys.ts).
      (ownValue(onPage, name) ?? setOwn(onPage, name, [])).push(match);
    }
  }
  const pages: DocumentPageResult[] = [];
  for (let page = chunk.from + 1; page <= chunk.to; page++) {
    const text = read.get(page);
    const failure = failures.get(page) ?? (text ? undefined : { page, code: 'internal' as const, message: 'the page has no result' });
    const warning = warnings.get(page);
    pages.push({ page, fields: fields.get(page) ?? {}, ...(text ? { read: text } : {}), ...(failure ? { failure } : {}), ...(warning ? { warning } : {}) });
  }
  return pages;
}
