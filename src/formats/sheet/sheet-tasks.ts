// The table tasks a pool thread runs (see src/runtime/pool-worker.ts): `sheet.inspect` and
// `sheet.extract`, for CSV and XLSX alike. Parsing is CPU work, and a hostile workbook (a zip
// bomb of shared strings) must meet the thread's memory cap, not the process's.
import { stat } from 'node:fs/promises';
import { ReamError } from '../../errors.ts';
import { asJson, fromJson, type JsonValue } from '../../json.ts';
import { CSV_MEDIA_TYPE } from '../sniff.ts';
import type { Extraction, TableOutline, TaskHandler } from '../types.ts';
import { noSheetPages, sheetNames, sheetPages, sheetSpans, type SheetSpan, type WithRows } from './sheet-pages.ts';
import { columnNames } from './cells.ts';
import { csvRows, eachCsvRecord, parseCsvRecords } from './csv-rows.ts';
import { adoptMarks, adoptStart, csvIndex, markBefore, marksOf, noteRow, type CsvEnd, type CsvMarks, type CsvStart } from './csv-index.ts';
import { readBytes, scanCsv } from './csv-scan.ts';
import { checkedShape, dataRows, readRows, tableShape, tooManyRows, type RawRows, type RowBatch, type TableReadOptions } from './table.ts';
import { openSheetPart, sheetRows, type SheetPart } from './xlsx-rows.ts';
import { fileVersion, withFileSha256 } from './file-version.ts';
import { MARK_EVERY } from './row-marks.ts';
import { adoptXlsxStart, KeptReads, noteXlsxRow, sheetIndex, xlsxMarkBefore, xlsxMarksOf, type ReadPlace, type XlsxMarks, type XlsxStart } from './xlsx-index.ts';
import { packRows } from './packed-rows.ts';
import { markNotUtf8, notUtf8Row } from './utf8-check.ts';
import type { RuleSpec } from '../../analyzers/rules/spec.ts';

// Types, not interfaces: inputs cross a thread as JSON, and only type aliases fit `JsonValue`.
/** `sha256`: the file's content as stored, when the caller knows it: what a thread keeps of the file is keyed by it (file-version.ts). */
type SheetInput = { path: string; mediaType: string; sheet?: string; columns?: string[]; sha256?: string };
export type SheetInspectInput = SheetInput & { maxRows: number };
export type SheetInspectResult = { rowCount: number; columns: string[]; sheet?: string; csvMarks?: CsvMarks; xlsxMarks?: XlsxMarks };
/**
 * `csvStart`: where a CSV's rows before `from` end, as the inspection found it (the read parses
 * only its own rows); `csvEnd`: where the rows after `to` start (the read parses them as a batch);
 * `csvScanned`: the file's marks came from the byte scan (see `CsvMarks.scanned`).
 */
export type SheetExtractInput = SheetInput & RowsStart & { from: number; to: number };
/** Where a read may start, from the inspection's marks (`xlsxStart`: a workbook's, see xlsx-index.ts). */
type RowsStart = { csvStart?: CsvStart; csvEnd?: CsvEnd; csvScanned?: boolean; xlsxStart?: XlsxStart };
/** `rules`: rule specs run on each row read (`[]`: none); `csv`: the rows' CSV records too. See packed-rows.ts. */
export type SheetExtractPackedInput = SheetExtractInput & { rules: RuleSpec[]; csv?: boolean };
/** A table read as sheets (sheet-pages.ts): its page count and the sheets that have pages. */
export type SheetPagesInspectResult = { pageCount: number; sheets: string[] };

type ReadTable<T> = (rows: RawRows, sheet: string | undefined, options: TableReadOptions) => Promise<T>;

/**
 * Runs `read` over the rows of the input's table (its sheet, for a workbook), closing the file
 * however it ends. A read starts at the last mark before `from` (csv-index.ts, xlsx-index.ts)
 * and notes new marks as it goes.
 */
async function withRows<T>(input: SheetInput & RowsStart, from: number, read: ReadTable<T>): Promise<T> {
  if (input.mediaType === CSV_MEDIA_TYPE) {
    const index = await csvIndex(input.path);
    if (input.csvStart) adoptStart(index, input.csvStart);
    const mark = index.columns === undefined ? undefined : markBefore(index, from);
    const start = mark && index.columns ? { start: { columns: index.columns, rowsBefore: mark.rowsBefore } } : {};
    const batch = input.csvEnd === undefined ? undefined : await csvBatch(input.path, mark?.offset ?? index.start, input.csvEnd, index.delimiter, input.csvScanned === true);
    if (batch) return read(batch, undefined, { ...(input.columns ? { columns: input.columns } : {}), ...start });
    let end = 0;
    const rows = csvRows(input.path, { delimiter: index.delimiter, start: mark?.offset ?? index.start, onRecordEnd: (offset) => (end = offset) });
    return read(rows, undefined, {
      ...(input.columns ? { columns: input.columns } : {}),
      ...start,
      onRow: (number, columns) => noteRow(index, number, end, columns),
    });
  }
  return withXlsxRows(input, from, read);
}

/** This thread's reads of sheets that stopped after a batch, for its next batch to go on from. */
const keptReads = new KeptReads<SheetPart>();

/**
 * {@link withRows} for a workbook. A read starts where this thread's last read of the sheet
 * stopped, or at the thread's last mark before `from`, whichever is nearer: the rows before it
 * are cut out of the sheet's XML unparsed (xlsx-skip.ts). A read that stops after a data row is
 * kept open for the thread's next batch, which goes on from there instead of inflating the
 * sheet from its top again.
 */
async function withXlsxRows<T>(input: SheetInput & RowsStart, from: number, read: ReadTable<T>): Promise<T> {
  const index = sheetIndex(await fileVersion(input.path), input.sheet);
  if (input.xlsxStart) adoptXlsxStart(index, input.xlsxStart);
  const mark = index.columns === undefined ? undefined : xlsxMarkBefore(index, from);
  const kept = keptReads.take(index, from);
  const start = kept && (!mark || kept.place.rowElements >= mark.rowElements) ? kept.place : mark;
  const part = kept?.read ?? (await openSheetPart(input.path, input.sheet));
  let stopped: ReadPlace | undefined;
  let result: T;
  try {
    const { rows } = await sheetRows(part, (start?.rowElements ?? 0) - part.cursor.position);
    result = await read(rows, part.sheet, {
      ...(input.columns ? { columns: input.columns } : {}),
      ...(start && index.columns ? { start: { columns: index.columns, rowsBefore: start.rowsBefore } } : {}),
      onRow: (number, columns) => {
        stopped = { rowsBefore: number, rowElements: part.cursor.position };
        noteXlsxRow(index, number, stopped.rowElements, columns);
      },
    });
  } catch (error) {
    part.close();
    throw error;
  }
  // Kept only when the read stopped right after a data row: the place is then exact.
  if (stopped && stopped.rowElements === part.cursor.position && !part.cursor.exhausted) keptReads.keep(index, stopped, part);
  else part.close();
  return result;
}

/** A batch's bytes at most: a range of longer rows is streamed (a batch is read into memory whole). */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;

/**
 * The records of the CSV at `path` from offset `start` to `end` (records' bounds, see csv-index.ts),
 * parsed at once; `undefined` when the range is too long to hold (the rows are streamed).
 */
async function csvBatch(path: string, start: number, end: CsvEnd, delimiter: string, scanned: boolean): Promise<RowBatch | undefined> {
  const stop = end === 'eof' ? (await stat(path)).size : end;
  if (stop - start > MAX_BATCH_BYTES) return undefined;
  const { bytes, marked } = markNotUtf8(await readBytes(path, start, stop));
  return {
    each: (visit) => eachCsvRecord(bytes, delimiter, visit, scanned ? { atFileStart: start === 0 } : undefined),
    ...(marked ? { invalid: notUtf8Row } : {}),
  };
}

async function inspect(input: JsonValue): Promise<JsonValue> {
  const args = fromJson<SheetInspectInput>(input);
  if (args.mediaType === CSV_MEDIA_TYPE) {
    const scanned = await scanShape(args);
    if (scanned) return asJson(scanned);
  }
  const result = await withRows(args, 0, async (rows, sheet, options): Promise<SheetInspectResult> => {
    const { columns, rowCount } = await tableShape(rows, args.maxRows, options);
    return { rowCount, columns, ...(sheet === undefined ? {} : { sheet }) };
  });
  // The whole file was read: every mark is known now, and handed on to the extracting threads.
  if (args.mediaType === CSV_MEDIA_TYPE) result.csvMarks = marksOf(await csvIndex(args.path));
  else {
    const marks = xlsxMarksOf(sheetIndex(await fileVersion(args.path), args.sheet));
    if (marks) result.xlsxMarks = marks;
  }
  return asJson(result);
}

/**
 * A CSV's shape from a byte scan (csv-scan.ts): the same row count, header and marks as a full
 * parse, at a fraction of its cost; `undefined` when the scan cannot be sure (the parse decides).
 */
async function scanShape(args: SheetInspectInput): Promise<SheetInspectResult | undefined> {
  const index = await csvIndex(args.path);
  const scan = await scanCsv(args.path, index.delimiter, MARK_EVERY, args.maxRows, index.start);
  if (!scan) return undefined;
  if (scan.rowCount > args.maxRows) throw tooManyRows(args.maxRows);
  const header = scan.header && parseCsvRecords(await readBytes(args.path, scan.header.start, scan.header.end), index.delimiter)[0];
  const { columns, rowCount } = checkedShape(header && columnNames(header), scan.rowCount, args.columns);
  adoptMarks(index, columns, scan.marks);
  return { rowCount, columns, csvMarks: { delimiter: index.delimiter, columns, marks: scan.marks, scanned: true } };
}

async function extract(input: JsonValue): Promise<JsonValue> {
  const args = fromJson<SheetExtractInput>(input);
  return withRows(args, args.from, async (rows, _sheet, options) => asJson(await readRows(rows, args.from, args.to, options)));
}

/** The rows of `from`–`to`, through the rules, as the chunk's packed checkpoint (packed-rows.ts). */
async function extractPacked(input: JsonValue): Promise<JsonValue> {
  const args = fromJson<SheetExtractPackedInput>(input);
  return withRows(args, args.from, async (rows, _sheet, options) => asJson(await packRows(rows, args.from, args.to, options, args.rules, args.csv)));
}

/** {@link withRows} as sheet-pages.ts calls it: over one sheet of the input's file. */
function rowsOfSheet(input: SheetInput): WithRows {
  return (sheet, from, read) => withRows({ ...input, ...(sheet === undefined ? {} : { sheet }) }, from, (rows, _sheet, options) => read(rows, options));
}

/** What one sheet of a workbook failing leaves the others readable with: its part missing, broken or lying about its size. */
const SHEET_OWN_FAILURES: ReadonlySet<string> = new Set(['invalid_sheet', 'resource_limit']);

/**
 * Each sheet's header, read up to it only: what a user picks `sheet` and `columns` from. A
 * workbook's sheet that cannot be read is listed with its error, and the others are read.
 */
async function outline(input: JsonValue): Promise<JsonValue> {
  const args = fromJson<SheetInput>(input);
  const result: TableOutline = { sheets: [] };
  for (const sheet of await sheetNames(args.path, args.mediaType, undefined)) {
    try {
      const columns = await withRows({ path: args.path, mediaType: args.mediaType, ...(sheet === undefined ? {} : { sheet }) }, 0, async (rows, _sheet, options) => {
        let header: string[] = [];
        for await (const _row of dataRows(rows, (names) => (header = names), options)) break; // the header comes before the first row
        return header;
      });
      result.sheets.push({ name: sheet ?? null, columns });
    } catch (error) {
      if (sheet === undefined || !(error instanceof ReamError) || !SHEET_OWN_FAILURES.has(error.code)) throw error;
      result.sheets.push({ name: sheet, columns: [], error: { code: error.code, message: error.message } });
    }
  }
  return asJson(result);
}

/** Table versions whose sheet spans a thread keeps (the most recently read). */
const SPANS_KEPT = 8;
const keptSpans = new Map<string, SheetSpan[]>();

/**
 * Where the sheets of the input's table lie among its pages, counted on this thread's first read
 * of the file version and kept: counting reads every row, and a table read in ranges counted
 * for each range took time in the square of its rows (docs/benchmarks.md, "Spreadsheets").
 */
async function spansOf(args: SheetInput): Promise<SheetSpan[]> {
  const key = `${await fileVersion(args.path)}\0${args.mediaType}\0${args.sheet ?? ''}`;
  let spans = keptSpans.get(key);
  if (spans) keptSpans.delete(key); // re-inserted below: the Map's order is the recency order
  spans ??= await sheetSpans(await sheetNames(args.path, args.mediaType, args.sheet), rowsOfSheet(args));
  keptSpans.set(key, spans);
  for (const old of keptSpans.keys()) if (keptSpans.size > SPANS_KEPT) keptSpans.delete(old);
  return spans;
}

async function inspectSheets(input: JsonValue): Promise<JsonValue> {
  const args = fromJson<SheetInput>(input);
  const spans = await spansOf(args);
  const pageCount = spans.reduce((sum, span) => sum + span.pages, 0);
  if (pageCount === 0) throw noSheetPages();
  const result: SheetPagesInspectResult = { pageCount, sheets: spans.flatMap((span) => (span.sheet === undefined ? [] : [span.sheet])) };
  return asJson(result);
}

async function extractSheets(input: JsonValue): Promise<JsonValue> {
  const args = fromJson<SheetExtractInput>(input);
  const extraction: Extraction = await sheetPages(await spansOf(args), rowsOfSheet(args), args.from, args.to);
  return asJson(extraction);
}

/** `handler` with its file's sha256 (if the input has it) declared for its reads. */
function declaring(handler: TaskHandler): TaskHandler {
  return (input) => {
    const { path, sha256 } = fromJson<SheetInput>(input);
    return withFileSha256(path, sha256, () => Promise.resolve(handler(input)));
  };
}

export const tasks: Readonly<Record<string, TaskHandler>> = {
  'sheet.inspect': declaring(inspect),
  'sheet.extract': declaring(extract),
  'sheet.extractPacked': declaring(extractPacked),
  'sheet.inspectSheets': declaring(inspectSheets),
  'sheet.extractSheets': declaring(extractSheets),
  'sheet.outline': declaring(outline),
};
