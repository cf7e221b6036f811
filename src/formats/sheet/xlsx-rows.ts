// XLSX rows, streamed with exceljs's WorkbookReader: the zip is read as a stream and each sheet's
// XML is parsed as it arrives, so memory holds the shared strings and one row, never the sheet.
// Formulas give their cached value (what Excel last computed; nothing is recalculated), dates
// ISO 8601 text. Merged cells hold their value in the top-left cell only: the merge list comes
// after the rows in the sheet's XML, too late for a stream.
import { createReadStream } from 'node:fs';
import ExcelJS from 'exceljs';
import { ReamError } from '../../errors.ts';
import type { CellValue } from '../types.ts';

export interface SheetRows {
  /** The name of the sheet being read. */
  sheet: string;
  rows: AsyncIterable<CellValue[]>;
  /** Stops reading and releases the file. */
  close(): void;
}

/** Opens the sheet named `wanted` (default: the workbook's first) for reading its rows in order. */
export async function openXlsxSheet(path: string, wanted?: string): Promise<SheetRows> {
  const stream = createReadStream(path);
  // Styles are needed to tell a date from a number: in XLSX a date is a number with a date format.
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(stream, { worksheets: 'emit', sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', entries: 'ignore' });
  // Iterated by hand: leaving a `for await` would end the workbook's stream under the sheet's rows.
  const sheets = reader[Symbol.asyncIterator]();
  const seen: string[] = [];
  try {
    for (let next = await sheets.next(); next.done !== true; next = await sheets.next()) {
      const sheet = next.value as ExcelJS.stream.xlsx.WorksheetReader & { name: string };
      seen.push(sheet.name);
      if (wanted !== undefined && sheet.name !== wanted) continue;
      return { sheet: sheet.name, rows: rowsOf(sheet, () => stream.destroy()), close: () => stream.destroy() };
    }
  } catch (error) {
    stream.destroy();
    throw unreadable(error);
  }
  stream.destroy();
  if (wanted === undefined) throw ReamError.nonRetryable('invalid_sheet', 'the workbook has no sheet');
  throw ReamError.nonRetryable('invalid_sheet', `the workbook has no sheet named "${wanted}"; it has ${seen.map((name) => `"${name}"`).join(', ') || 'none'}`, {
    details: { sheet: wanted, sheets: seen },
  });
}

async function* rowsOf(sheet: ExcelJS.stream.xlsx.WorksheetReader, close: () => void): AsyncGenerator<CellValue[]> {
  try {
    for await (const row of sheet) {
      // `values` is 1-based and sparse: index 0 is always empty, missing cells are holes.
      const values = (row.values as unknown[]).slice(1);
      yield Array.from(values, cellValue);
    }
  } catch (error) {
    throw unreadable(error);
  } finally {
    close();
  }
}

/** A cell's value as exceljs gives it, made plain: rich text joined, a formula's cached result, a date as ISO 8601. */
export function cellValue(value: unknown): CellValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  if (value instanceof Date) return isoDate(value);
  if (typeof value !== 'object') return null;
  const object = value as Record<string, unknown>;
  if (Array.isArray(object.richText)) return (object.richText as Array<{ text?: unknown }>).map((run) => (typeof run.text === 'string' ? run.text : '')).join('');
  // A formula ({ formula | sharedFormula, result }): its value is the result Excel cached.
  if ('formula' in object || 'sharedFormula' in object) return cellValue(object.result);
  if (typeof object.error === 'string') return object.error; // #N/A, #DIV/0!: what the sheet shows
  if ('text' in object) return cellValue(object.text); // a hyperlink: its text
  return null;
}

/** `2024-03-01` for a date at midnight (a day, as most sheets mean it), the full instant otherwise. */
function isoDate(date: Date): string | null {
  if (Number.isNaN(date.getTime())) return null;
  const iso = date.toISOString();
  return iso.endsWith('T00:00:00.000Z') ? iso.slice(0, 10) : iso;
}

function unreadable(error: unknown): ReamError {
  if (error instanceof ReamError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return ReamError.nonRetryable('invalid_sheet', `the workbook cannot be read: ${message}`, { cause: error });
}
