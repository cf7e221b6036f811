// Writers of the output table, one per format, all streaming: rows go out as they are given
// (a checkpoint's at a time, `writeRows`). For CSV and JSONL a slow disk holds the producer back
// (backpressure); exceljs offers none, so its zip stream buffers what the disk has not taken yet.
// Each writes to `<out>.partial` and renames it at `close`, so an interrupted write never leaves
// a half table under the real name.
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm, writeFile } from 'node:fs/promises';
import { dirname, extname } from 'node:path';
import { finished } from 'node:stream/promises';
import { ReamError } from '../errors.ts';
import type { CellValue } from '../formats/types.ts';
import { guardedCsvText } from '../exports/rows-csv.ts';
import { tooWideForXlsx, XLSX_MAX_COLUMNS, xlsxCell } from '../exports/xlsx-cells.ts';
import { makeFolders } from '../make-folders.ts';
import { writeFailure } from './write-failure.ts';

export interface TableWriter {
  write(row: readonly CellValue[]): Promise<void>;
  /** Many rows at once (a checkpoint's): one write to the file, not one per row. */
  writeRows(rows: readonly (readonly CellValue[])[]): Promise<void>;
  /** A CSV's records as they are (encoded already, see exports/rows-csv.ts); a CSV writer's only. */
  writeText?: (text: string) => Promise<void>;
  /** Finishes the file and gives it its name. */
  close(): Promise<void>;
  /** Text cells that lost characters the format cannot hold (an .xlsx: control characters), so far. */
  cellsWithDroppedCharacters(): number;
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
  const partial = `${path}.partial`;
  const ext = extname(path).toLowerCase();
  // Refused before any file is made: exceljs would fail at the end, leaving the `.partial` file.
  if (ext === '.xlsx' && header.length > XLSX_MAX_COLUMNS) throw tooWideForXlsx(header.length);
  const failed = (error: unknown): ReamError => writeFailure(`the table ${path}`, error);
  let writer: Sink;
  try {
    // A folder that does not exist yet is made, as `--out-dir` is.
    makeFolders(dirname(path));
    // Made here, so that a path that cannot be written fails now and as io_error: exceljs opens
    // its file later and throws the failure where nothing can catch it, ending the process.
    await writeFile(partial, '');
    writer = ext === '.xlsx' ? await xlsxWriter(partial, sheet) : textWriter(partial, ext === '.csv' ? csvRows(escapeFormulasFrom) : jsonlText(header));
    await writer.write([header], true);
  } catch (error) {
    await rm(partial, { force: true }).catch(() => undefined);
    throw failed(error);
  }
  const { writeText } = writer;
  const guarded = <A extends unknown[]>(write: (...args: A) => Promise<void>) => (...args: A): Promise<void> => write(...args).catch((error: unknown) => Promise.reject(failed(error)));
  return {
    write: guarded((row: readonly CellValue[]) => writer.write([row], false)),
    writeRows: guarded((rows: readonly (readonly CellValue[])[]) => writer.write(rows, false)),
    ...(ext === '.csv' && writeText ? { writeText: guarded(writeText) } : {}),
    cellsWithDroppedCharacters: () => writer.dropped?.() ?? 0,
    close: guarded(async () => {
      await writer.end();
      await rename(partial, path);
    }),
    async abort() {
      await writer.end().catch(() => undefined);
      await rm(partial, { force: true });
    },
  };
}

interface Sink {
  write(rows: readonly (readonly CellValue[])[], isHeader: boolean): Promise<void>;
  /** Text as it is (a text file's only). */
  writeText?: (text: string) => Promise<void>;
  /** See {@link TableWriter.cellsWithDroppedCharacters}; none when absent. */
  dropped?: () => number;
  end(): Promise<void>;
}

/** Rows to text: a CSV's records, or JSONL's objects (`isHeader`: JSONL has no header line of its own). */
type EncodeRows = (rows: readonly (readonly CellValue[])[], isHeader: boolean) => string;

function textWriter(path: string, encode: EncodeRows): Sink {
  const file = createWriteStream(path);
  const writeText = async (text: string): Promise<void> => {
    if (text !== '' && !file.write(text)) await once(file, 'drain');
  };
  return {
    write: (rows, isHeader) => writeText(encode(rows, isHeader)),
    writeText,
    async end() {
      file.end();
      await finished(file);
    },
  };
}

/** CSV records; text cells from column `escapeFrom` on (header names too) guarded against formula injection. */
function csvRows(escapeFrom: number): EncodeRows {
  return (rows) => guardedCsvText(rows, escapeFrom);
}

function jsonlText(header: readonly string[]): EncodeRows {
  // One object per row, keyed by the header.
  const line = (row: readonly CellValue[]): string => `${JSON.stringify(Object.fromEntries(header.map((name, i) => [name, row[i] ?? null])))}\n`;
  return (rows, isHeader) => (isHeader ? '' : rows.map(line).join(''));
}

async function xlsxWriter(path: string, sheet: string): Promise<Sink> {
  // Loaded for an .xlsx only: a CSV or JSONL table is written without exceljs's load time.
  const { default: ExcelJS } = await import('exceljs');
  // Shared strings would keep every distinct text in memory until the end; inline strings do not.
  const book = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: path, useSharedStrings: false, useStyles: false });
  const worksheet = book.addWorksheet(sheet);
  // Cells as the HTTP download writes them (exports/table-stream.ts): cut past Excel's limit
  // with the same mark, and without what XML cannot hold, counted for the summary.
  let dropped = 0;
  const onDropped = (): void => void dropped++;
  return {
    write(rows) {
      // commit() hands the row to the zip stream at once, so rows do not gather in the sheet.
      for (const row of rows) worksheet.addRow(row.map((cell) => xlsxCell(cell, onDropped))).commit();
      return Promise.resolve();
    },
    dropped: () => dropped,
    async end() {
      worksheet.commit();
      await book.commit();
    },
  };
}
