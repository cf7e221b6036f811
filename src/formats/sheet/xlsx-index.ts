// What a thread keeps of the workbooks it read recently, so that each batch of a sheet costs
// about its own rows (as csv-index.ts does for CSV). Without it, a batch parsed the workbook's
// shared strings and every row before its own: 60,000 rows in batches of 2,000 took 44 s where
// one batch of 60,000 took 7 s. Kept per thread, per file version (file-version.ts):
// - the parsed parts every sheet read needs (relationships, workbook, shared strings, styles):
//   parsed once per file per thread, not once per batch;
// - per sheet, a mark every MARK_EVERY data rows: how many `<row>` elements come before that
//   data row. A read from a mark cuts those elements out unparsed (xlsx-skip.ts), and numbers
//   its rows on from the mark.
import { lastMarkBefore, noteMark } from './row-marks.ts';

/** Files a thread keeps parts and marks of (the most recently read): a workbook's shared strings can be large. */
const FILES_KEPT = 2;

interface Mark {
  /** Data rows before the row element at `rowElements`. */
  rowsBefore: number;
  /** `<row>` elements of the sheet's XML before it, blank rows and the header included. */
  rowElements: number;
}

export interface XlsxSheetIndex {
  /** Known once a read has passed the header. */
  columns?: string[];
  /** In row order. */
  marks: Mark[];
}

interface FileEntry<Parts> {
  parts?: Parts;
  sheets: Map<string, XlsxSheetIndex>;
}

const files = new Map<string, FileEntry<unknown>>();

function entryOf(version: string): FileEntry<unknown> {
  let entry = files.get(version);
  if (entry) files.delete(version); // re-inserted below: the Map's order is the recency order
  entry ??= { sheets: new Map() };
  files.set(version, entry);
  for (const old of files.keys()) {
    if (files.size <= FILES_KEPT) break;
    files.delete(old);
  }
  return entry;
}

/**
 * The parsed workbook parts of a file version, made by `parse` on this thread's first read of it.
 * A parse that fails is not kept (the next read tries again and fails alike).
 */
export async function workbookParts<Parts>(version: string, parse: () => Promise<Parts>): Promise<Parts> {
  const entry = entryOf(version) as FileEntry<Parts>;
  entry.parts ??= await parse();
  return entry.parts;
}

/** The marks of a sheet (`sheet`: as asked for, undefined for the first) of a file version. */
export function sheetIndex(version: string, sheet: string | undefined): XlsxSheetIndex {
  const { sheets } = entryOf(version);
  const key = sheet === undefined ? '' : `=${sheet}`;
  let index = sheets.get(key);
  if (!index) sheets.set(key, (index = { marks: [] }));
  return index;
}

/** Marks as they cross threads: the header's columns and, per mark, `[rowsBefore, rowElements]`. */
export type XlsxMarks = { columns: string[]; marks: Array<[number, number]> };
/** One mark of {@link XlsxMarks}: where a task's rows begin. */
export type XlsxStart = { columns: string[]; rowsBefore: number; rowElements: number };

/** The marks of `index`, once it knows the header; none before. */
export function xlsxMarksOf(index: XlsxSheetIndex): XlsxMarks | undefined {
  if (index.columns === undefined) return undefined;
  return { columns: index.columns, marks: index.marks.map((mark) => [mark.rowsBefore, mark.rowElements]) };
}

/** The start in `marks` nearest before data row `from` (0-based), if any. */
export function xlsxStartBefore(marks: XlsxMarks, from: number): XlsxStart | undefined {
  let found: [number, number] | undefined;
  for (const mark of marks.marks) {
    if (mark[0] > from) break;
    found = mark;
  }
  return found && { columns: marks.columns, rowsBefore: found[0], rowElements: found[1] };
}

/** Adds a mark another thread found (the inspection read the sheet whole). */
export function adoptXlsxStart(index: XlsxSheetIndex, start: XlsxStart): void {
  index.columns ??= start.columns;
  const at = index.marks.findIndex((mark) => mark.rowsBefore >= start.rowsBefore);
  const mark = { rowsBefore: start.rowsBefore, rowElements: start.rowElements };
  if (at === -1) index.marks.push(mark);
  else if (index.marks[at]?.rowsBefore !== start.rowsBefore) index.marks.splice(at, 0, mark);
}

/** The last mark at or before data row `from` (0-based), if any. */
export function xlsxMarkBefore(index: XlsxSheetIndex, from: number): Mark | undefined {
  return lastMarkBefore(index.marks, from);
}

/** Notes that data row `number` is the sheet's row element `rowElements` (1-based: that many elements read). */
export function noteXlsxRow(index: XlsxSheetIndex, number: number, rowElements: number, columns: string[]): void {
  index.columns ??= columns;
  noteMark(index.marks, { rowsBefore: number, rowElements });
}

/** Where a read of a sheet stopped: after data row `rowsBefore`, the sheet's row element `rowElements`. */
export type ReadPlace = Mark;

/** Reads a thread keeps open at once: each holds its file open and an inflate stream's state. */
const READS_KEPT = 2;
/** A kept read that no batch goes on with is closed after this long (ms): it holds its file open. */
const KEPT_IDLE_MS = 30_000;

/**
 * Reads of sheets that stopped after a batch's last row, kept open for the thread's next batch
 * of the same sheet to go on from (xlsx-skip.ts): a sheet's XML is inflated from its top once
 * per thread, not once per batch. Keyed by the sheet's index: another file version is another
 * index.
 */
export class KeptReads<Read extends { close(): void }> {
  readonly #kept: Array<{ index: XlsxSheetIndex; place: ReadPlace; read: Read; timer: NodeJS.Timeout }> = [];

  /** Keeps `read`, stopped at `place`, closing the oldest kept read past the limit. */
  keep(index: XlsxSheetIndex, place: ReadPlace, read: Read): void {
    const timer = setTimeout(() => this.#drop(read)?.close(), KEPT_IDLE_MS);
    timer.unref();
    this.#kept.push({ index, place, read, timer });
    while (this.#kept.length > READS_KEPT) {
      const oldest = this.#kept.shift();
      if (oldest) {
        clearTimeout(oldest.timer);
        oldest.read.close();
      }
    }
  }

  /** The kept read of `index` stopped at or before data row `from` (0-based), taken out of the kept ones. */
  take(index: XlsxSheetIndex, from: number): { place: ReadPlace; read: Read } | undefined {
    const found = this.#kept.find((kept) => kept.index === index && kept.place.rowsBefore <= from);
    if (!found) return undefined;
    this.#drop(found.read);
    return { place: found.place, read: found.read };
  }

  #drop(read: Read): Read | undefined {
    const at = this.#kept.findIndex((kept) => kept.read === read);
    const [dropped] = at === -1 ? [] : this.#kept.splice(at, 1);
    if (dropped) clearTimeout(dropped.timer);
    return dropped?.read;
  }
}
