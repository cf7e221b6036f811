// XLSX rows, streamed. The ZIP is opened by its central directory (unzipper) and its parts are
// read in the order they depend on each other — relationships, workbook, shared strings,
// styles, then the one sheet wanted — each part streamed from where it lies in the file.
// exceljs parses each part (cell types, dates from number formats, formulas' cached values).
//
// Why not exceljs's own WorkbookReader: it reads the ZIP in one pass, in stored order, copies
// sheets stored before the workbook part to temp files, and loses that part in a race
// (exceljs#3064: "Cannot read properties of undefined (reading 'sheets')" on Node ≥ 18, most
// often on exceljs-written files, which store xl/workbook.xml last). Its temp copies are
// removed only when the reader moves past them, which a reader that stops at a row range never
// does. Reading by the central directory has neither problem, and skips every other sheet.
// The parts before the sheet are parsed once per file per thread, and a read that starts at a
// mark cuts the rows before it out of the sheet's XML unparsed, or goes on where the thread's
// last read of the sheet stopped (xlsx-index.ts, xlsx-skip.ts).
//
// Merged cells hold their value in the top-left cell only: the merge list comes after the rows
// in the sheet's XML, too late for a stream.
import type { Readable } from 'node:stream';
import type ExcelJS from 'exceljs';
import type { CentralDirectoryFile } from 'unzipper';
import { ReamError } from '../../errors.ts';
import { checkZipSizes, entryStream, zipEntries } from '../zip/zip-container.ts';
import type { CellValue } from '../types.ts';
import { fileVersion } from './file-version.ts';
import { workbookParts } from './xlsx-index.ts';
import { RowCursor } from './xlsx-skip.ts';

/** A sheet's part opened for reading: reads of its rows go on one after another from `cursor` (see xlsx-skip.ts). */
export interface SheetPart {
  /** The name of the sheet being read. */
  sheet: string;
  /** Every sheet's name, in the workbook's order. */
  sheets: string[];
  /** The sheet's XML, at row element `cursor.position`. */
  cursor: RowCursor;
  /** The workbook's parsed parts the sheet's cells need (shared strings, styles). */
  reader: Parts;
  /** Stops reading and releases the file. */
  close(): void;
}

export interface SheetRows {
  part: SheetPart;
  rows: AsyncIterable<CellValue[]>;
}

type SheetReader = ExcelJS.stream.xlsx.WorksheetReader & { name: string };

/**
 * The part of exceljs's WorkbookReader used here: its per-part parsers (underscored, so not a
 * public API: exceljs is pinned to an exact version in package.json for this reason).
 */
interface PartParsers {
  model?: { sheets?: Array<{ name: string; rId: string }> };
  /** The workbook's properties (`workbookPr`): whether its dates count from 1904. */
  properties?: { model?: { date1904?: boolean } };
  workbookRels?: Array<{ Id: string; Target: string }>;
  _parseRels(entry: Readable): Promise<void>;
  _parseWorkbook(entry: Readable): Promise<void>;
  _parseSharedStrings(entry: Readable): AsyncGenerator<unknown>;
  _parseStyles(entry: Readable): Promise<void>;
  _parseWorksheet(rows: AsyncIterable<unknown>, sheetNo: string): Generator<{ eventType: string; value: SheetReader }>;
}

export type Parts = PartParsers & { date1904: boolean };
type Excel = typeof ExcelJS;

/** A workbook opened by its central directory, its parts parsed (or this thread's copy of them). */
interface OpenWorkbook {
  reader: Parts;
  /** A part's stream, closed with the workbook; undefined when the archive has no such part. */
  part: (name: string) => Readable | undefined;
  close: () => void;
}

async function openWorkbook(path: string): Promise<OpenWorkbook> {
  const streams = new Set<Readable>();
  const close = (): void => {
    for (const stream of streams) stream.destroy();
    streams.clear();
  };
  try {
    // exceljs (and unzipper, in zipEntries) are loaded by the first workbook read: a thread that
    // reads only CSV (or PDFs) never pays their load time and memory.
    const { default: excel } = await import('exceljs');
    const version = await fileVersion(path);
    // Tens of thousands of entries are refused before the directory is read.
    const files = await zipEntries(path, 'invalid_sheet');
    checkZipSizes(files); // a bomb is refused from its declared sizes, before a byte is inflated
    const part = (name: string): Readable | undefined => {
      const file: CentralDirectoryFile | undefined = files.find((f) => f.path === name);
      if (!file) return undefined;
      // Each part at most its declared size: a part that lies about it fails with resource_limit.
      const stream = entryStream(file);
      streams.add(stream);
      return stream;
    };
    return { reader: await workbookParts(version, () => parseParts(excel, part)), part, close };
  } catch (error) {
    close();
    throw unreadable(error);
  }
}

/**
 * The workbook's sheet names, in its order, without opening any sheet: a sheet whose part is
 * missing or broken fails its own read, not the listing of the others.
 */
export async function xlsxSheetNames(path: string): Promise<string[]> {
  const { reader, close } = await openWorkbook(path);
  close();
  return (reader.model?.sheets ?? []).map((sheet) => sheet.name);
}

/**
 * Opens the sheet named `wanted` (default: the workbook's first), at its top. The workbook's
 * parts are parsed once per file per thread (xlsx-index.ts): a read of rows pays for its sheet's
 * XML, not for the shared strings.
 */
export async function openSheetPart(path: string, wanted?: string): Promise<SheetPart> {
  const { reader, part, close } = await openWorkbook(path);
  try {
    const sheets = reader.model?.sheets ?? [];
    const chosen = wanted === undefined ? sheets[0] : sheets.find((sheet) => sheet.name === wanted);
    if (!chosen) {
      if (wanted === undefined) throw ReamError.nonRetryable('invalid_sheet', 'the workbook has no sheet');
      throw ReamError.nonRetryable('invalid_sheet', `the workbook has no sheet named "${wanted}"; it has ${sheets.map((sheet) => `"${sheet.name}"`).join(', ') || 'none'}`, {
        details: { sheet: wanted, sheets: sheets.map((sheet) => sheet.name) },
      });
    }
    const target = reader.workbookRels?.find((rel) => rel.Id === chosen.rId)?.Target;
    // A relationship's target is relative to xl/, or absolute within the archive; it names an
    // entry of the archive only (`../../etc/passwd` is no entry), never a file on disk.
    const entry = target === undefined ? undefined : part(target.startsWith('/') ? target.slice(1) : `xl/${target}`);
    if (!entry) throw ReamError.nonRetryable('invalid_sheet', `the workbook's sheet "${chosen.name}" has no part in the archive`);
    return { sheet: chosen.name, sheets: sheets.map((sheet) => sheet.name), cursor: new RowCursor(entry), reader, close };
  } catch (error) {
    close();
    throw unreadable(error);
  }
}

/**
 * The rows of `part` from its cursor on, past `skipRows` more row elements cut out unparsed.
 * The part stays open: its owner closes it, or reads on from where these rows stopped.
 */
export async function sheetRows(part: SheetPart, skipRows = 0): Promise<SheetRows> {
  try {
    await part.cursor.skip(skipRows);
  } catch (error) {
    throw unreadable(error);
  }
  const [event] = [...part.reader._parseWorksheet(part.cursor.elements(), '0')];
  if (!event) throw ReamError.nonRetryable('invalid_sheet', `the workbook's sheet "${part.sheet}" cannot be read`);
  return { part, rows: rowsOf(event.value, part.reader.date1904) };
}

/** The parts every sheet's read needs, in the order they depend on each other. */
async function parseParts(excel: Excel, part: (name: string) => Readable | undefined): Promise<Parts> {
  // Styles are needed to tell a date from a number: in XLSX a date is a number with a date format.
  const reader = new excel.stream.xlsx.WorkbookReader(undefined as unknown as string, { sharedStrings: 'cache', styles: 'cache' }) as unknown as PartParsers;
  const rels = part('xl/_rels/workbook.xml.rels');
  const workbook = part('xl/workbook.xml');
  if (!rels || !workbook) throw ReamError.nonRetryable('invalid_sheet', 'the file is a ZIP archive but not a workbook: it has no xl/workbook.xml');
  await reader._parseRels(rels);
  await reader._parseWorkbook(workbook);
  const strings = part('xl/sharedStrings.xml');
  if (strings) for await (const _ of reader._parseSharedStrings(strings)); // cached on the reader
  const styles = part('xl/styles.xml');
  if (styles) await reader._parseStyles(styles);
  return Object.assign(reader, { date1904: reader.properties?.model?.date1904 === true });
}

async function* rowsOf(sheet: SheetReader, date1904: boolean): AsyncGenerator<CellValue[]> {
  try {
    // exceljs gives one row per `<row>` element, blank ones included, each as soon as the
    // cursor hands it over (xlsx-skip.ts): after a row, the cursor's position is that row's.
    for await (const row of sheet) {
      // `values` is 1-based and sparse: index 0 is always empty, missing cells are holes.
      const values = (row.values as unknown[]).slice(1);
      yield Array.from(values, (value, i) => cellValue(formulaDate(value, () => row.getCell(i + 1).numFmt, date1904)));
    }
  } catch (error) {
    throw unreadable(error);
  }
}

/**
 * A formula's cached number as the date it shows when its cell has a date format: exceljs makes
 * dates of plain number cells by their format, but leaves a formula's result a serial number
 * (`=A2+30` formatted yyyy-mm-dd came out as 45336).
 */
function formulaDate(value: unknown, numFmt: () => string | undefined, date1904: boolean): unknown {
  if (typeof value !== 'object' || value === null || !('formula' in value || 'sharedFormula' in value)) return value;
  const { result } = value as { result?: unknown };
  if (typeof result !== 'number' || !isDateFormat(numFmt())) return value;
  return { ...value, result: excelDate(result, date1904) };
}

/** Whether a number format shows a date or time (as exceljs tells plain cells): y, m, d, h, s or b outside quotes and brackets. */
function isDateFormat(format: string | undefined): boolean {
  if (!format) return false;
  return /[ymdhMsb]/.test(format.replace(/\[[^\]]*]/g, '').replace(/"[^"]*"/g, ''));
}

/** An Excel serial day number as a Date (1900 or 1904 date system). */
function excelDate(serial: number, date1904: boolean): Date {
  return new Date(Math.round((serial - 25569 + (date1904 ? 1462 : 0)) * 86_400_000));
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
