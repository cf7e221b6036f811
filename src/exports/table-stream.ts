// A result table encoded as CSV or XLSX, as a stream that pulls rows only as fast as its reader
// takes bytes: a 100,000-row download holds a few rows at a time, not the file.
import { once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import ExcelJS from 'exceljs';
import type { CellValue } from '../formats/types.ts';
import { escapeFormula, type CsvFormulaMode } from './csv-formulas.ts';
import { csvText } from './csv-text.ts';
import type { ResultTable } from './result-table.ts';
import { sheetName } from './sheet-name.ts';
import { tooWideForXlsx, XLSX_MAX_COLUMNS, xlsxCell } from './xlsx-cells.ts';

export { XLSX_MAX_CELL_CHARS } from './xlsx-cells.ts';

export const TABLE_MEDIA_TYPES = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;
export type TableFormat = keyof typeof TABLE_MEDIA_TYPES;


/** One record; with `escape`, text cells guarded against formula injection (numbers are ream's own: `-3` stays). */
function csvLine(row: readonly CellValue[], formulas: CsvFormulaMode): string {
  return csvText([formulas === 'escape' ? row.map((cell) => (typeof cell === 'string' ? escapeFormula(cell) : cell)) : row]);
}

async function* csvLines(table: ResultTable, formulas: CsvFormulaMode): AsyncGenerator<string> {
  yield csvLine(table.header, formulas);
  for await (const row of table.rows) yield csvLine(row, formulas);
}


function xlsxStream(table: ResultTable, sheet: string): Readable {
  const out = new PassThrough();
  // Shared strings would keep every distinct text in memory until the end; inline strings do not.
  const book = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: out, useSharedStrings: false, useStyles: false });
  const worksheet = book.addWorksheet(sheetName(sheet));
  const write = async (): Promise<void> => {
    worksheet.addRow(table.header.map((name) => xlsxCell(name))).commit();
    for await (const row of table.rows) {
      if (out.destroyed) return;
      // commit() hands the row to the zip stream at once; exceljs ignores backpressure, so the
      // rows wait here while the reader is behind.
      worksheet.addRow(row.map((cell) => xlsxCell(cell))).commit();
      if (out.writableNeedDrain) await once(out, 'drain');
    }
    worksheet.commit();
    await book.commit();
  };
  write().catch((error: unknown) => out.destroy(error instanceof Error ? error : new Error(String(error))));
  return out;
}

export interface EncodeOptions {
  /** Names the XLSX worksheet. Default `results`. */
  sheet?: string;
  /**
   * CSV only: `escape` (default) prefixes text cells a spreadsheet would run as a formula with `'`
   * (csv-formulas.ts); `keep` writes them as they are. XLSX needs neither: its text cells are
   * written as strings, which a spreadsheet never evaluates.
   */
  formulas?: CsvFormulaMode;
}

/** The table as a byte stream in `format`; `resource_limit` for an XLSX of more columns than a sheet has. */
export function encodeTable(table: ResultTable, format: TableFormat, options: EncodeOptions = {}): Readable {
  // Refused before a byte is sent: exceljs would fail the stream midway, a broken download.
  if (format === 'xlsx' && table.header.length > XLSX_MAX_COLUMNS) throw tooWideForXlsx(table.header.length);
  return format === 'csv' ? Readable.from(csvLines(table, options.formulas ?? 'escape')) : xlsxStream(table, options.sheet ?? 'results');
}
