// The table tasks a pool thread runs (see src/runtime/pool-worker.ts): `sheet.inspect` and
// `sheet.extract`, for CSV and XLSX alike. Parsing is CPU work, and a hostile workbook (a zip
// bomb of shared strings) must meet the thread's memory cap, not the process's.
import { asJson, fromJson, type JsonValue } from '../../json.ts';
import { CSV_MEDIA_TYPE } from '../sniff.ts';
import type { CellValue, TaskHandler } from '../types.ts';
import { csvRows } from './csv-rows.ts';
import { readRows, tableShape } from './table.ts';
import { openXlsxSheet } from './xlsx-rows.ts';

// Types, not interfaces: inputs cross a thread as JSON, and only type aliases fit `JsonValue`.
type SheetInput = { path: string; mediaType: string; sheet?: string };
export type SheetInspectInput = SheetInput & { maxRows: number };
export type SheetInspectResult = { rowCount: number; columns: string[]; sheet?: string };
export type SheetExtractInput = SheetInput & { from: number; to: number };

/** Runs `read` over the rows of the input's table (its sheet, for a workbook), closing the file however it ends. */
async function withRows<T>(input: SheetInput, read: (rows: AsyncIterable<CellValue[]>, sheet: string | undefined) => Promise<T>): Promise<T> {
  if (input.mediaType === CSV_MEDIA_TYPE) return read(csvRows(input.path), undefined);
  const opened = await openXlsxSheet(input.path, input.sheet);
  try {
    return await read(opened.rows, opened.sheet);
  } finally {
    opened.close();
  }
}

async function inspect(input: JsonValue): Promise<JsonValue> {
  const args = fromJson<SheetInspectInput>(input);
  return withRows(args, async (rows, sheet) => {
    const { columns, rowCount } = await tableShape(rows, args.maxRows);
    const result: SheetInspectResult = { rowCount, columns, ...(sheet === undefined ? {} : { sheet }) };
    return asJson(result);
  });
}

async function extract(input: JsonValue): Promise<JsonValue> {
  const args = fromJson<SheetExtractInput>(input);
  return withRows(args, async (rows) => asJson(await readRows(rows, args.from, args.to)));
}

export const tasks: Readonly<Record<string, TaskHandler>> = {
  'sheet.inspect': inspect,
  'sheet.extract': extract,
};
