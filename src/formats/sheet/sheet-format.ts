// Tables (CSV, XLSX) as the engine sees them: a document whose pages are its data rows, so the
// engine's chunks are batches of rows, checkpointed, retried and resumed like any pages. Parsing
// runs in the thread pool (sheet-tasks.ts); this side checks limits and forwards.
import { stat } from 'node:fs/promises';
import { checkFileSize, checkRange, throwIfCancelled } from '../file-checks.ts';
import { startBefore, type CsvMarks } from './csv-index.ts';
import type { DocumentFormat, Extraction, Inspection, PageRange, ReadLimits, ReadOptions, TaskRunner } from '../types.ts';
import type { SheetExtractInput, SheetInspectInput, SheetInspectResult } from './sheet-tasks.ts';

/** CSV files whose marks this process keeps (the most recently inspected). */
const MARKED_FILES = 8;

export function createSheetFormat(runner: TaskRunner, mediaType: string, extensions: readonly string[]): DocumentFormat {
  // Where rows start in the CSV files this process inspected, by file version: each extract
  // task is told the mark nearest before its rows, so that whichever thread runs it parses only
  // about its own rows (on its own, a thread's first read of a file parses from the top). A task
  // in another process (distributed workers) goes without, as before.
  const marked = new Map<string, CsvMarks>();
  const fileKey = async (path: string): Promise<string> => {
    const { size, mtimeMs } = await stat(path);
    return `${path}\0${size}\0${mtimeMs}`;
  };
  const sheetOf = (options: ReadOptions | undefined): { sheet?: string } => (options?.sheet === undefined ? {} : { sheet: options.sheet });
  return {
    mediaType,
    extensions,
    async inspect(path: string, limits: ReadLimits, signal?: AbortSignal, options?: ReadOptions): Promise<Inspection> {
      throwIfCancelled(signal);
      await checkFileSize(path, limits);
      const input: SheetInspectInput = { path, mediaType, maxRows: limits.maxPages, ...sheetOf(options) };
      const result = await runner.run<SheetInspectResult>('sheet.inspect', input, { signal });
      if (result.csvMarks) {
        marked.set(await fileKey(path), result.csvMarks);
        for (const old of marked.keys()) if (marked.size > MARKED_FILES) marked.delete(old);
      }
      return {
        mediaType,
        pageCount: result.rowCount,
        metadata: { columns: result.columns, ...(result.sheet === undefined ? {} : { sheet: result.sheet }) },
      };
    },
    async extract(path: string, range: PageRange, signal?: AbortSignal, options?: ReadOptions): Promise<Extraction> {
      throwIfCancelled(signal);
      checkRange(range);
      if (range.from === range.to) return { pages: [], failures: [] };
      const marks = marked.size > 0 ? marked.get(await fileKey(path)) : undefined;
      const csvStart = marks && startBefore(marks, range.from);
      const input: SheetExtractInput = { path, mediaType, from: range.from, to: range.to, ...sheetOf(options), ...(csvStart ? { csvStart } : {}) };
      // Unlike a PDF's, a range whose rows all failed is not a failed task: each row's failure is
      // final and says what is wrong with that row, which a chunk-wide error would blur.
      return runner.run<Extraction>('sheet.extract', input, { signal });
    },
  };
}
