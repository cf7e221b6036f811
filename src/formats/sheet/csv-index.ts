// Where the data rows of recently read CSV files start, kept per thread. A task reads rows
// `from`–`to` of a table; without an index it must parse every row before `from`, so a file of
// N rows in tasks of B rows costs N²/2B rows parsed in all. Each read notes the byte offset of
// every 1000th row it passes, and the next read of the same file in this thread starts at the
// nearest mark instead: a thread parses each part of a file about once. A mark is a record's
// start as the parser counted bytes, so a resumed parse sees exactly the records a full one does.
import { csvLayout } from './csv-rows.ts';
import { fileVersion } from './file-version.ts';
import { lastMarkBefore, noteMark } from './row-marks.ts';

/** Files whose marks a thread keeps (the most recently read). */
const FILES_KEPT = 4;

interface Mark {
  /** Data rows before the record at `offset`. */
  rowsBefore: number;
  offset: number;
}

export interface CsvIndex {
  delimiter: string;
  /** Byte offset of the first record: past a `sep=` line (csv-rows.ts `csvLayout`), else 0. */
  start: number;
  /** Known once a read has passed the header. */
  columns?: string[];
  /** In row order. */
  marks: Mark[];
}

const indexes = new Map<string, CsvIndex>();

/** The index of the CSV at `path`, as it is now (another content, or another size or time when it is not known, starts a new one). */
export async function csvIndex(path: string): Promise<CsvIndex> {
  const key = await fileVersion(path);
  let index = indexes.get(key);
  if (index) indexes.delete(key); // re-inserted below: the Map's order is the recency order
  index ??= { ...(await csvLayout(path)), marks: [] };
  indexes.set(key, index);
  for (const old of indexes.keys()) {
    if (indexes.size <= FILES_KEPT) break;
    indexes.delete(old);
  }
  return index;
}

/**
 * An index's marks as they cross threads: the delimiter, the header's columns and, per mark,
 * `[rowsBefore, offset]` (1,000 pairs for a million rows); `scanned`: found by the byte scan,
 * which vouched for the whole file's quotes and line ends (csv-scan.ts, csv-simple.ts).
 */
export type CsvMarks = { delimiter: string; columns: string[]; marks: Array<[number, number]>; scanned?: boolean };

/** The marks of `index`, once it knows the header (a read passed it); none before. */
export function marksOf(index: CsvIndex): CsvMarks | undefined {
  if (index.columns === undefined) return undefined;
  return { delimiter: index.delimiter, columns: index.columns, marks: index.marks.map((mark) => [mark.rowsBefore, mark.offset]) };
}

/** One mark of {@link CsvMarks} with what a read starting there needs: where a task's rows begin. */
export type CsvStart = { delimiter: string; columns: string[]; rowsBefore: number; offset: number };

/** The start in `marks` nearest before data row `from` (0-based), if any. */
export function startBefore(marks: CsvMarks, from: number): CsvStart | undefined {
  let found: [number, number] | undefined;
  for (const mark of marks.marks) {
    if (mark[0] > from) break;
    found = mark;
  }
  return found && { delimiter: marks.delimiter, columns: marks.columns, rowsBefore: found[0], offset: found[1] };
}

/**
 * Where the records after data row `to` start, from marks of the whole file (an inspection's):
 * the offset of the first mark at or past `to`, or `eof` when there is none (the last rows).
 */
export type CsvEnd = number | 'eof';

/** See {@link CsvEnd}. */
export function endAfter(marks: CsvMarks, to: number): CsvEnd {
  for (const mark of marks.marks) if (mark[0] >= to) return mark[1];
  return 'eof';
}

/**
 * Adds a mark another thread found in the same file (the inspection read it whole), so that this
 * thread's read starts near its own rows instead of parsing every row before them. A start found
 * with another delimiter (another guess) is not taken.
 */
export function adoptStart(index: CsvIndex, start: CsvStart): void {
  if (start.delimiter !== index.delimiter) return;
  index.columns ??= start.columns;
  const at = index.marks.findIndex((mark) => mark.rowsBefore >= start.rowsBefore);
  if (at === -1) index.marks.push({ rowsBefore: start.rowsBefore, offset: start.offset });
  else if (index.marks[at]?.rowsBefore !== start.rowsBefore) index.marks.splice(at, 0, { rowsBefore: start.rowsBefore, offset: start.offset });
}

/** Takes the marks of a scan of the whole file (csv-scan.ts): every mark there is, and the header's columns. */
export function adoptMarks(index: CsvIndex, columns: string[], marks: ReadonlyArray<readonly [number, number]>): void {
  index.columns = columns;
  if (marks.length > index.marks.length) index.marks = marks.map(([rowsBefore, offset]) => ({ rowsBefore, offset }));
}

/** The last mark at or before data row `from` (0-based, as page ranges are), if any. */
export function markBefore(index: CsvIndex, from: number): Mark | undefined {
  return lastMarkBefore(index.marks, from);
}

/** Notes that data row `number` ends at `offset` (where the next record starts). */
export function noteRow(index: CsvIndex, number: number, offset: number, columns: string[]): void {
  index.columns ??= columns;
  noteMark(index.marks, { rowsBefore: number, offset });
}
