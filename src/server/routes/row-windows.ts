// Windows of a document's rows for `GET …/pages?offset=&limit=&sort=&filter=`: the rows of one
// window are read from the checkpoints that hold them only; a sorted or filtered view is built by
// one pass over every row and kept as its row numbers (4 bytes a row) for the windows that follow.
import type { DocumentPageResult, RowViewQuery } from '../../api-types.ts';
import { orderRows, rowOrder } from '../../exports/row-view.ts';
import type { Ream } from '../../runtime/ream.ts';

type JobDocumentRecord = NonNullable<Awaited<ReturnType<Ream['jobDocument']>>>;

/** Rows per window when the query names none, and the most one may ask for. */
const DEFAULT_WINDOW_ROWS = 200;
export const MAX_WINDOW_ROWS = 1000;

/**
 * Views kept per server process, least recently used first out: scrolling a sorted 100,000-row
 * table asks for hundreds of windows of one view, and each would otherwise read every row again.
 * At most 16 × 1,000,000 rows × 4 bytes = 64 MB, typically a few MB.
 */
const CACHED_VIEWS = 16;
/** Each view's order, or its making: windows asked for at once while it is made wait for the one pass. */
const views = new Map<string, Promise<Int32Array>>();

function remember(key: string, order: Promise<Int32Array>): void {
  views.delete(key);
  views.set(key, order);
  for (const oldest of views.keys()) {
    if (views.size <= CACHED_VIEWS) break;
    views.delete(oldest);
  }
}

export interface RowWindowAnswer {
  /** Rows in the whole view. */
  total: number;
  rows: AsyncIterable<DocumentPageResult>;
}

/** The view's row numbers in order: from the cache once the document has ended (its rows are final then). */
async function viewOrder(ream: Ream, jobDoc: JobDocumentRecord, query: RowViewQuery): Promise<Int32Array | undefined> {
  const order = rowOrder(query);
  if (!order) return undefined;
  const build = (): Promise<Int32Array> => orderRows(ream.documentPages(jobDoc.jobId, jobDoc.documentId), order);
  if (jobDoc.finishedAt === null) return build();
  // A retried document ends again with a new `finishedAt`: its old view is never answered.
  const key = JSON.stringify([jobDoc.jobId, jobDoc.documentId, jobDoc.finishedAt, query.sort, order.descending, query.filterBy, order.filter?.text]);
  const known = views.get(key);
  if (known) {
    remember(key, known);
    return known;
  }
  const making = build();
  remember(key, making);
  // A failed pass (a store that did not answer) is not kept: the next window tries again.
  making.catch(() => views.get(key) === making && views.delete(key));
  return making;
}

/** The rows of `page numbers`, answered in that order (the window holds at most {@link MAX_WINDOW_ROWS}). */
async function* inOrder(ream: Ream, jobDoc: JobDocumentRecord, numbers: number[]): AsyncGenerator<DocumentPageResult> {
  const byNumber = new Map<number, DocumentPageResult>();
  const ascending = [...numbers].sort((a, b) => a - b);
  for await (const page of ream.documentPages(jobDoc.jobId, jobDoc.documentId, { pages: ascending })) byNumber.set(page.page, page);
  for (const number of numbers) {
    const page = byNumber.get(number);
    if (page) yield page;
  }
}

/** One window of the view `query` asks for. */
export async function rowWindow(ream: Ream, jobDoc: JobDocumentRecord, query: RowViewQuery): Promise<RowWindowAnswer> {
  const offset = query.offset ?? 0;
  const limit = query.limit ?? DEFAULT_WINDOW_ROWS;
  const order = await viewOrder(ream, jobDoc, query);
  if (order) return { total: order.length, rows: inOrder(ream, jobDoc, Array.from(order.subarray(offset, offset + limit))) };
  const total = jobDoc.pagesTotal ?? 0;
  const count = Math.max(0, Math.min(limit, total - offset));
  const pages = Array.from({ length: count }, (_, index) => offset + index + 1);
  return { total, rows: count === 0 ? emptyRows() : ream.documentPages(jobDoc.jobId, jobDoc.documentId, { pages }) };
}

/** No rows: a window past the end. */
async function* emptyRows(): AsyncGenerator<DocumentPageResult> {}
