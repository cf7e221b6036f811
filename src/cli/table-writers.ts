// Writers of the output table, one per format, all streaming: a row goes out as it is given.
// For CSV and JSONL a slow disk holds the producer back (backpressure); exceljs offers none, so
// its zip stream buffers what the disk has not taken yet.
// Each writes to `<out>.partial` and renames it at `close`, so an interrupted write never leaves
// a half table under the real name.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { ReamError } from '../errors.ts';
import type { CellValue } from '../formats/types.ts';
import { escapeFormula } from '../exports/csv-formulas.ts';

export interface TableWriter {
  write(row: readonly CellValue[]): Promise<void>;
  /** Finishes the file and gives it its name. */
  close(): Promise<void>;
  /** Drops the unfinished file. */
  abort(): Promise<void>;
}

/** The output formats, by the extension of `--out`. */
export const TABLE_EXTENSIONS = ['.csv', '.xlsx', '.jsonl'] as const;

/** `validation_failed` unless `path` ends in one of {@link TABLE_EXTENSIONS}. */
export function checkTablePath(path: string): void {
  const ext = extname(path).toLowerCase();
  if (!(TABLE_EXTENSIONS as readonly string[]).includes(ext)) {
    throw ReamError.nonRetryable('validation_failed', `--out must end in ${TABLE_EXTENSIONS.join(', ')}; got "${path}"`);
  }
}

/**
 * A writer of `header` and then rows into `path`, in the format its extension names. In a CSV,
 * text cells from column `escapeFormulasFrom` on are guarded against formula injection
 * (csv-formulas.ts); the columns before it are written as they are (`ream rows` writes the
 * user's own table back: its cells stay the user's, only the columns ream adds are guarded).
 */
export async function openTableWriter(path: string, header: readonly string[], sheet = 'Sheet1', escapeFormulasFrom = Number.POSITIVE_INFINITY): Promise<TableWriter> {
  checkTablePath(path);
  // A folder that does not exist yet is made, as `--out-dir` is.
  await mkdir(dirname(path), { recursive: true });
  const partial = `${path}.partial`;
  const ext = extname(path).toLowerCase();
  const writer = ext === '.xlsx' ? await xlsxWriter(partial, sheet) : streamWriter(partial, ext === '.csv' ? csvStream(escapeFormulasFrom) : jsonlStream(header));
  await writer.write(header, true);
  return {
    write: (row) => writer.write(row, false),
    async close() {
      await writer.end();
      await rename(partial, path);
    },
    async abort() {
      await writer.end().catch(() => undefined);
      await rm(partial, { force: true });
    },
  };
}

interface Sink {
  write(row: readonly CellValue[], isHeader: boolean): Promise<void>;
  end(): Promise<void>;
}

/** A row-to-text transform and the file it goes to. */
interface TextStream {
  transform: Writable & NodeJS.ReadableStream;
  /** Rows (not the header) as the transform takes them; `undefined` drops the row (JSONL has no header line). */
  encode(row: readonly CellValue[], isHeader: boolean): unknown;
}

function streamWriter(path: string, text: TextStream): Sink {
  const file = createWriteStream(path);
  text.transform.pipe(file);
  return {
    async write(row, isHeader) {
      const encoded = text.encode(row, isHeader);
      if (encoded !== undefined && !text.transform.write(encoded)) await once(text.transform, 'drain');
    },
    async end() {
      text.transform.end();
      await finished(file);
    },
  };
}

function csvStream(escapeFrom: number): TextStream {
  // Numbers and booleans as JavaScript prints them, empty for null: the text the cell showed.
  const transform = stringify({ cast: { boolean: (value) => String(value), number: (value) => String(value) } });
  return { transform, encode: (row) => row.map((cell, i) => (i >= escapeFrom && typeof cell === 'string' ? escapeFormula(cell) : (cell ?? ''))) };
}

function jsonlStream(header: readonly string[]): TextStream {
  // One object per row, keyed by the header (JSONL has no header line of its own).
  const encode = (row: readonly CellValue[], isHeader: boolean): string | undefined =>
    isHeader ? undefined : `${JSON.stringify(Object.fromEntries(header.map((name, i) => [name, row[i] ?? null])))}\n`;
  return { transform: new PassThrough(), encode };
}

async function xlsxWriter(path: string, sheet: string): Promise<Sink> {
  // Loaded for an .xlsx only: a CSV or JSONL table is written without exceljs's load time.
  const { default: ExcelJS } = await import('exceljs');
  // Shared strings would keep every distinct text in memory until the end; inline strings do not.
  const book = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: false, useStyles: false });
  const worksheet = book.addWorksheet(sheet);
  return {
    write(row) {
      // commit() hands the row to the zip stream at once, so rows do not gather in the sheet.
      worksheet.addRow([...row]).commit();
      return Promise.resolve();
    },
    async end() {
      worksheet.commit();
      await book.commit();
    },
  };
}
