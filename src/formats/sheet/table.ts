// A table from a stream of raw rows, whatever the file: the first non-blank row is the header,
// every later non-blank row is a data row numbered from 1 — the table's "pages". Both readers
// stream to the rows asked for and stop there, so memory never holds more than a range of rows.
import { ReamError } from '../../errors.ts';
import type { CellValue, PageFailure, PageText } from '../types.ts';
import { columnNames, isBlankRow, tableRow } from './cells.ts';

/**
 * Where a read starts, when not at the top: past `rowsBefore` data rows of a table whose header
 * is known (a CSV resumed at a byte offset, see csv-index.ts).
 */
export interface TableStart {
  columns: string[];
  rowsBefore: number;
}

/** Rows handed over one by one as a batch is parsed at once (csv-rows.ts `eachCsvRecord`). */
export interface RowBatch {
  each(visit: (cells: CellValue[]) => void): void;
  /** Why data row `row` cannot be read though it parsed (bytes that are not text); undefined when it can. */
  invalid?: (cells: readonly CellValue[], row: number) => string | undefined;
}

/** Raw rows: streamed (parsed as they are read), or a batch parsed at once. */
export type RawRows = AsyncIterable<CellValue[]> | RowBatch;

export interface TableReadOptions {
  start?: TableStart;
  /** The columns each row keeps, by header name (see `ReadOptions.columns`); default all. */
  columns?: readonly string[];
  /** Called as each data row is reached, with its number and the columns (csv-index.ts notes where rows start). */
  onRow?: (number: number, columns: string[]) => void;
}

export interface TableShape {
  columns: string[];
  /** Data rows, header excluded. */
  rowCount: number;
}

/**
 * Counts the data rows and reads the header. Stops with `too_many_pages` as soon as the count
 * passes `maxRows` (a row is a page), and with `invalid_sheet` when there is no header at all.
 */
export async function tableShape(rows: RawRows, maxRows: number, options: TableReadOptions = {}): Promise<TableShape> {
  let columns: string[] | undefined;
  let rowCount = 0;
  for await (const row of dataRows(rows, (names) => (columns = names), options)) {
    rowCount = row.number;
    if (rowCount > maxRows) throw tooManyRows(maxRows);
  }
  return checkedShape(columns, rowCount, options.columns);
}

/** `too_many_pages`: the table has more than `maxRows` data rows. */
export function tooManyRows(maxRows: number): ReamError {
  return ReamError.nonRetryable('too_many_pages', `the table has more than ${maxRows} data rows (a row counts as a page)`, {
    details: { maxPages: maxRows },
  });
}

/** The shape of a table read whole, or `invalid_sheet` without a header or rows (`validation_failed` for `wanted` columns it lacks). */
export function checkedShape(columns: string[] | undefined, rowCount: number, wanted: readonly string[] | undefined): TableShape {
  if (columns === undefined) throw ReamError.nonRetryable('invalid_sheet', 'the table is empty: no header row');
  if (rowCount === 0) throw ReamError.nonRetryable('invalid_sheet', 'the table has a header but no data rows');
  if (wanted) keptColumns(columns, wanted);
  return { columns, rowCount };
}

/** The data rows of `rows`, numbered from 1 (or on from `options.start`); the header's column names go to `onHeader` first. */
export async function* dataRows(
  rows: RawRows,
  onHeader: (columns: string[]) => void,
  options: TableReadOptions,
): AsyncGenerator<{ number: number; cells: CellValue[] }> {
  const numberOf = rowNumbering(onHeader, options);
  for await (const cells of isBatch(rows) ? batchRows(rows) : rows) {
    const number = numberOf(cells);
    if (number > 0) yield { number, cells };
  }
}

/** A batch's rows gathered (for a reader that steps through rows; a batch is bounded, see sheet-tasks.ts). */
function batchRows(batch: RowBatch): CellValue[][] {
  const rows: CellValue[][] = [];
  batch.each((cells) => rows.push(cells));
  return rows;
}

/**
 * What {@link dataRows} does to each raw row, as a function: the row's data row number, or 0
 * for a blank row or the header (handed to `onHeader`). For a loop over a parsed batch, which
 * needs no step of an async generator per row.
 */
function rowNumbering(onHeader: (columns: string[]) => void, { start, onRow }: TableReadOptions): (cells: CellValue[]) => number {
  let columns = start?.columns;
  let number = start?.rowsBefore ?? 0;
  if (columns) onHeader(columns);
  return (cells) => {
    if (isBlankRow(cells)) return 0;
    if (!columns) {
      columns = columnNames(cells);
      onHeader(columns);
      return 0;
    }
    number++; // not inside `onRow?.(…)`: an absent hook would skip its arguments, and the count
    onRow?.(number, columns);
    return number;
  };
}

export interface RowRange {
  pages: PageText[];
  failures: PageFailure[];
}

/**
 * Data rows `(from, to]` (1-based numbers; `from` 0-based as page ranges are). A row with a
 * non-empty cell past the header's last column fails on its own (`invalid_sheet`): its extra
 * values have no column to go to, and silently dropping them would lose data. Shorter rows are
 * padded with empty cells (CSV writers often leave trailing empty fields out).
 */
export async function readRows(rows: RawRows, from: number, to: number, options: TableReadOptions = {}): Promise<RowRange> {
  const pages: PageText[] = [];
  const failures = await eachRow(rows, from, to, options, (page, names, values) => pages.push(tableRow(page, names, values)));
  return { pages, failures };
}

/**
 * {@link readRows} with each row read handed to `onValues` as it comes, not gathered: its number,
 * its columns (the header's, or the ones kept) and a value for each (`tableRow` makes the page).
 * For a reader that packs each row and lets it go (packed-rows.ts). Answers the rows that
 * failed, each also handed to `onFailure` at its place: every row of the range goes to one of them, in order.
 */
export async function eachRow(
  rows: RawRows,
  from: number,
  to: number,
  options: TableReadOptions,
  onValues: (page: number, columns: readonly string[], values: CellValue[]) => void,
  onFailure?: (failure: PageFailure) => void,
): Promise<PageFailure[]> {
  const failures: PageFailure[] = [];
  const fail = (failure: PageFailure): void => {
    failures.push(failure);
    onFailure?.(failure);
  };
  let columns: string[] = [];
  let kept: number[] | undefined;
  let keptNames: string[] = [];
  let last = options.start?.rowsBefore ?? 0;
  const onHeader = (names: string[]): void => {
    columns = names;
    kept = options.columns ? keptColumns(names, options.columns) : undefined;
    keptNames = kept ? kept.map((i) => names[i] ?? '') : [];
  };
  const invalid = isBatch(rows) ? rows.invalid : undefined;
  /** Takes data row `number`; false once past the range. */
  const take = (number: number, cells: CellValue[]): boolean => {
    last = number;
    if (number <= from) return true;
    if (number > to) return false;
    const width = lastFilled(cells);
    const unreadable = invalid?.(cells, number);
    if (unreadable !== undefined) {
      fail({ page: number, code: 'invalid_sheet', message: unreadable });
    } else if (width > columns.length) {
      fail({ page: number, code: 'invalid_sheet', message: `row ${number} has ${width} cells; the header has ${columns.length} columns` });
    } else if (kept) {
      onValues(number, keptNames, kept.map((i) => cells[i] ?? null));
    } else {
      onValues(number, columns, fitted(cells, columns.length));
    }
    return true;
  };
  if (isBatch(rows)) {
    // A parsed batch: a plain loop, no async step per row.
    // The rows after the range (up to the batch's end, a mark past `to`) are passed over.
    const numberOf = rowNumbering(onHeader, options);
    let past = false;
    rows.each((cells) => {
      const number = past ? 0 : numberOf(cells);
      if (number > 0) past = !take(number, cells);
    });
  } else {
    // Stops right after row `to`: the stream is left just past the range's last row, where the
    // next batch of a workbook goes on (xlsx-index.ts `KeptReads`).
    for await (const { number, cells } of dataRows(rows, onHeader, options)) if (!take(number, cells) || number >= to) break;
  }
  for (let page = Math.max(from, last) + 1; page <= to; page++) {
    fail({ page, code: 'invalid_sheet', message: `the table has ${last} data rows, no row ${page}` });
  }
  return failures;
}

/**
 * Positions in the header of the columns asked for, in the order asked. A name the header lacks
 * is `validation_failed` naming it and the columns there are, so the user can pick again.
 */
export function keptColumns(header: readonly string[], wanted: readonly string[]): number[] {
  return wanted.map((name) => {
    const index = header.indexOf(name);
    if (index < 0) {
      throw ReamError.nonRetryable('validation_failed', `option "columns" names "${name}", a column the table does not have (its columns: ${header.join(', ')})`, {
        details: { column: name, columns: [...header] },
      });
    }
    return index;
  });
}

function isBatch(rows: RawRows): rows is RowBatch {
  return 'each' in rows;
}

/** `cells`, one per column: a short row padded with empty cells, empty cells past the last column dropped. */
function fitted(cells: CellValue[], width: number): CellValue[] {
  for (let i = cells.length; i < width; i++) cells.push(null);
  if (cells.length > width) cells.length = width;
  return cells;
}

/** 1-based position of the last non-empty cell (0 when all are empty). */
function lastFilled(cells: readonly CellValue[]): number {
  for (let i = cells.length - 1; i >= 0; i--) {
    const cell = cells[i];
    if (cell !== null && cell !== undefined && cell !== '') return i + 1;
  }
  return 0;
}
