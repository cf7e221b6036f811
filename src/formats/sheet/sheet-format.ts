// Tables (CSV, XLSX) as the engine sees them: a document whose pages are its data rows, so the
// engine's chunks are batches of rows, checkpointed, retried and resumed like any pages; or,
// read as sheets (`tablePages: "sheets"`, the document pipelines), whose pages are its sheets
// as text (sheet-pages.ts). Parsing
// runs in the thread pool (sheet-tasks.ts); this side checks limits and forwards.
import { fileKey } from '../file-key.ts';
import { checkFileSize, checkPageCount, checkRange, throwIfCancelled } from '../file-checks.ts';
import { endAfter, startBefore, type CsvMarks } from './csv-index.ts';
import type { JsonValue } from '../../json.ts';
import type { DocumentFormat, Extraction, Inspection, PackedRows, PageRange, ReadLimits, ReadOptions, TableOutline, TaskRunner } from '../types.ts';
import { xlsxStartBefore, type XlsxMarks } from './xlsx-index.ts';
import type { SheetExtractInput, SheetInspectInput, SheetInspectResult, SheetPagesInspectResult } from './sheet-tasks.ts';

/** What a page is when a table is read as sheets (sheet-pages.ts). */
export const SHEET_PAGINATION = 'one page per sheet: its header and rows as tab-separated lines, up to 1,000 rows a page (the header repeated)';

/** CSV files whose marks this process keeps (the most recently inspected). */
const MARKED_FILES = 8;

export function createSheetFormat(runner: TaskRunner, mediaType: string, extensions: readonly string[]): DocumentFormat {
  // Where rows start in the CSV files this process inspected, by file version: each extract
  // task is told the mark nearest before its rows, so that whichever thread runs it parses only
  // about its own rows (on its own, a thread's first read of a file parses from the top). A task
  // in another process (distributed workers) goes without, as before.
  const marked = new Map<string, CsvMarks>();
  // The same for workbooks, by file version and sheet (xlsx-index.ts): a task starts at the
  // row element the inspection marked before its rows, and parses none before it.
  const xlsxMarked = new Map<string, XlsxMarks>();
  const keyOf = (path: string, options: ReadOptions | undefined): Promise<string> => fileKey(path, options?.sha256);
  const sheetKey = (file: string, sheet: string | undefined): string => (sheet === undefined ? file : `${file}\0=${sheet}`);
  const sheetOf = (options: ReadOptions | undefined): { sheet?: string; sha256?: string } => ({
    ...(options?.sheet === undefined ? {} : { sheet: options.sheet }),
    ...(options?.sha256 === undefined ? {} : { sha256: options.sha256 }),
  });
  const columnsOf = (options: ReadOptions | undefined): { columns?: string[] } => (options?.columns === undefined ? {} : { columns: options.columns });
  /** A read of `range` as rows, starting where the inspection marked the CSV before it (if it did). */
  const rowsInput = async (path: string, range: PageRange, options: ReadOptions | undefined): Promise<SheetExtractInput> => {
    const marks = marked.size > 0 ? marked.get(await keyOf(path, options)) : undefined;
    const csvStart = marks && startBefore(marks, range.from);
    // With its end too, the rows are read as one batch (sheet-tasks.ts).
    const bounds = marks ? { ...(csvStart ? { csvStart } : {}), csvEnd: endAfter(marks, range.to), ...(marks.scanned ? { csvScanned: true } : {}) } : {};
    const sheetMarks = xlsxMarked.size > 0 ? xlsxMarked.get(sheetKey(await keyOf(path, options), options?.sheet)) : undefined;
    const xlsxStart = sheetMarks && xlsxStartBefore(sheetMarks, range.from);
    return { path, mediaType, from: range.from, to: range.to, ...sheetOf(options), ...columnsOf(options), ...bounds, ...(xlsxStart ? { xlsxStart } : {}) };
  };
  return {
    mediaType,
    extensions,
    async inspect(path: string, limits: ReadLimits, signal?: AbortSignal, options?: ReadOptions): Promise<Inspection> {
      throwIfCancelled(signal);
      await checkFileSize(path, limits);
      if (options?.tablePages === 'sheets') {
        const { pageCount, sheets } = await runner.run<SheetPagesInspectResult>('sheet.inspectSheets', { path, mediaType, ...sheetOf(options) }, { signal });
        checkPageCount(pageCount, limits);
        return { mediaType, pageCount, metadata: { ...(sheets.length > 0 ? { sheets } : {}), pageUnit: 'sheet', pagination: SHEET_PAGINATION } };
      }
      const input: SheetInspectInput = { path, mediaType, maxRows: limits.maxPages, ...sheetOf(options), ...columnsOf(options) };
      const result = await runner.run<SheetInspectResult>('sheet.inspect', input, { signal });
      if (result.csvMarks) {
        marked.set(await keyOf(path, options), result.csvMarks);
        for (const old of marked.keys()) if (marked.size > MARKED_FILES) marked.delete(old);
      }
      if (result.xlsxMarks) {
        xlsxMarked.set(sheetKey(await keyOf(path, options), options?.sheet), result.xlsxMarks);
        for (const old of xlsxMarked.keys()) if (xlsxMarked.size > MARKED_FILES) xlsxMarked.delete(old);
      }
      return {
        mediaType,
        pageCount: result.rowCount,
        metadata: { columns: result.columns, ...(result.sheet === undefined ? {} : { sheet: result.sheet }) },
      };
    },
    async outline(path: string, signal?: AbortSignal): Promise<TableOutline> {
      throwIfCancelled(signal);
      return runner.run<TableOutline>('sheet.outline', { path, mediaType }, { signal });
    },
    async extract(path: string, range: PageRange, signal?: AbortSignal, options?: ReadOptions): Promise<Extraction> {
      throwIfCancelled(signal);
      checkRange(range);
      if (range.from === range.to) return { pages: [], failures: [] };
      if (options?.tablePages === 'sheets') {
        return runner.run<Extraction>('sheet.extractSheets', { path, mediaType, from: range.from, to: range.to, ...sheetOf(options) }, { signal });
      }
      const input = await rowsInput(path, range, options);
      // Unlike a PDF's, a range whose rows all failed is not a failed task: each row's failure is
      // final and says what is wrong with that row, which a chunk-wide error would blur.
      return runner.run<Extraction>('sheet.extract', input, { signal });
    },
    async extractPacked(path: string, range: PageRange, rules: JsonValue, signal?: AbortSignal, options?: ReadOptions): Promise<PackedRows> {
      throwIfCancelled(signal);
      checkRange(range);
      const input = { ...(await rowsInput(path, range, options)), rules, ...(options?.tableCsv ? { csv: true } : {}) };
      return runner.run<PackedRows>('sheet.extractPacked', input, { signal });
    },
  };
}
