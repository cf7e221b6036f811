// Tables read as documents (`tablePages: "sheets"`): each sheet is text, its header and then
// its data rows as tab-separated lines, in pages of at most SHEET_PAGE_ROWS rows with the header
// on each, so that search and the analyzers read a sheet as a reader would. A long sheet is cut
// rather than made one page: a page is what search indexes and snippets, what an analyzer (an
// LLM) is handed at once and what a chunk holds in memory; at 1,000 rows a page stays in the
// hundreds of kilobytes, and a million-row CSV still spreads over 1,000 pages, 20 chunks that
// run in parallel. A CSV is one sheet without a name; a workbook's sheets come in its order
// (or only the one `sheet` names), and a sheet without a header row (empty) has no page.
import { ReamError } from '../../errors.ts';
import { CSV_MEDIA_TYPE } from '../sniff.ts';
import type { CellValue, PageFailure, PageText } from '../types.ts';
import { cellText } from './cells.ts';
import { dataRows, type RawRows, type TableReadOptions } from './table.ts';
import { openSheetPart, xlsxSheetNames } from './xlsx-rows.ts';

/** Data rows per page of a sheet (the header is repeated on each). */
export const SHEET_PAGE_ROWS = 1000;

/** Runs `read` over one table's rows from data row `from` on (a CSV's own, or a workbook sheet's). */
export type WithRows = <T>(sheet: string | undefined, from: number, read: (rows: RawRows, options: TableReadOptions) => Promise<T>) => Promise<T>;

/** One sheet's place among the document's pages. */
export interface SheetSpan {
  sheet: string | undefined;
  /** 0-based index of its first page. */
  firstPage: number;
  pages: number;
  /** Why the sheet cannot be read (its part is missing or broken): its one page fails with this. */
  unreadable?: string;
}

const field = (value: CellValue): string => cellText(value).replace(/[\t\r\n]+/g, ' ');
const line = (cells: readonly CellValue[]): string => cells.map(field).join('\t').replace(/\t+$/, '');

/** Pages a table of `rowCount` data rows takes (a header alone is one page; no header, none). */
function pagesOf(hasHeader: boolean, rowCount: number): number {
  return hasHeader ? Math.max(1, Math.ceil(rowCount / SHEET_PAGE_ROWS)) : 0;
}

async function countPages(rows: RawRows, options: TableReadOptions): Promise<number> {
  let hasHeader = false;
  let count = 0;
  for await (const row of dataRows(rows, () => (hasHeader = true), options)) count = row.number;
  return pagesOf(hasHeader, count);
}

/** The sheets to read: a CSV's one; a workbook's, all of them or the one named. */
export async function sheetNames(path: string, mediaType: string, wanted: string | undefined): Promise<(string | undefined)[]> {
  if (mediaType === CSV_MEDIA_TYPE) return [undefined];
  if (wanted === undefined) return xlsxSheetNames(path);
  const part = await openSheetPart(path, wanted);
  part.close();
  return [part.sheet];
}

/** Where each sheet's pages lie. Counting reads every sheet to the end. */
export async function sheetSpans(names: readonly (string | undefined)[], withRows: WithRows): Promise<SheetSpan[]> {
  const spans: SheetSpan[] = [];
  let next = 0;
  for (const sheet of names) {
    let pages: number;
    try {
      pages = await withRows(sheet, 0, countPages);
    } catch (error) {
      // One sheet of several that cannot be read is one failed page, not a failed workbook: the
      // others are read (the document ends partially_succeeded).
      if (names.length < 2 || !(error instanceof ReamError) || error.code !== 'invalid_sheet') throw error;
      spans.push({ sheet, firstPage: next, pages: 1, unreadable: error.message });
      next += 1;
      continue;
    }
    if (pages > 0) spans.push({ sheet, firstPage: next, pages });
    next += pages;
  }
  return spans;
}

/**
 * The pages of the table, `[from, to)` (0-based), as text; an unreadable sheet's page as a
 * failure. `spans` are the table's (see {@link sheetSpans}): counted once, not per range.
 */
export async function sheetPages(spans: readonly SheetSpan[], withRows: WithRows, from: number, to: number): Promise<{ pages: PageText[]; failures: PageFailure[] }> {
  const pages: PageText[] = [];
  const failures: PageFailure[] = [];
  for (const span of spans) {
    const first = Math.max(from, span.firstPage);
    const last = Math.min(to, span.firstPage + span.pages);
    if (first >= last) continue;
    if (span.unreadable !== undefined) {
      failures.push({ page: first + 1, code: 'invalid_sheet', message: `sheet "${span.sheet ?? ''}" cannot be read: ${span.unreadable}` });
      continue;
    }
    // Data rows (rowFrom, rowTo] of this sheet, 1-based as tables number them.
    const rowFrom = (first - span.firstPage) * SHEET_PAGE_ROWS;
    const rowTo = (last - span.firstPage) * SHEET_PAGE_ROWS;
    const lines = new Map<number, string[]>();
    let header = '';
    await withRows(span.sheet, rowFrom, async (rows, options) => {
      for await (const row of dataRows(rows, (columns) => (header = line(columns)), options)) {
        if (row.number <= rowFrom) continue;
        if (row.number > rowTo) break;
        const page = span.firstPage + Math.ceil(row.number / SHEET_PAGE_ROWS) - 1;
        const pageLines = lines.get(page) ?? [];
        if (pageLines.length === 0) lines.set(page, pageLines);
        pageLines.push(line(row.cells));
      }
    });
    for (let page = first; page < last; page++) {
      pages.push({ page: page + 1, text: [header, ...(lines.get(page) ?? [])].join('\n'), ...(span.sheet === undefined ? {} : { sheet: span.sheet }) });
    }
  }
  return { pages, failures };
}

/** `invalid_sheet` for a table of which no sheet has a header row. */
export function noSheetPages(): ReamError {
  return ReamError.nonRetryable('invalid_sheet', 'the table is empty: no sheet has a header row');
}
