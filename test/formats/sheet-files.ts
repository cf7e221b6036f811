// Helpers of the table tests: formats over a real thread pool, files written into a temp dir,
// a table read whole (identify → inspect → extract, as the engine does), CSV text made here.
import assert from 'node:assert/strict';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import type { CellValue, ReadLimits } from '../../src/formats/types.ts';
import type { JsonValue } from '../../src/json.ts';
import { formatsFixture, type DocumentRead, type FormatsFixture } from '../support/formats-fixture.ts';

export const limits: ReadLimits = { maxBytes: 50 * 2 ** 20, maxPages: 100_000 };

/** A table read whole (identify → inspect → extract). */
export type TableRead = DocumentRead;
export type SheetFixture = FormatsFixture;

/** Registers before/after hooks for a pool, the formats and a temp dir; call at the top of a file or a describe. */
export function sheetFixture(): SheetFixture {
  return formatsFixture('ream-sheet-', limits);
}

/** RFC 4180 text of `rows`: every field quoted, `"` doubled, so any value survives. */
export function toCsv(rows: readonly (readonly string[])[], delimiter = ',', eol = '\r\n'): string {
  return rows.map((row) => row.map((cell) => `"${cell.replaceAll('"', '""')}"`).join(delimiter)).join(eol) + eol;
}

/** The cells of every extracted row, in column order: what a golden table is compared with. */
export function cellsOf(read: TableRead): CellValue[][] {
  const columns = read.inspection.metadata.columns ?? [];
  return read.extraction.pages.map((page) => columns.map((column) => page.cells?.[column] ?? null));
}

const march1 = new Date(Date.UTC(2024, 2, 1));
const march2 = new Date(Date.UTC(2024, 2, 2, 13, 30));

/** Three sheets: `Notes` (booleans), `Orders` (dates, formulas, empty and merged cells), `Empty`. */
export async function ordersWorkbook(): Promise<Uint8Array> {
  const book = new ExcelJS.Workbook();
  const notes = book.addWorksheet('Notes');
  notes.addRows([['topic', 'done'], ['taxes', true], ['rent', false]]);
  const orders = book.addWorksheet('Orders');
  orders.addRows([
    ['id', 'date', 'qty', 'price', 'total', 'note'],
    [1, march1, 2, 5.5, { formula: 'C2*D2', result: 11 }, 'first'],
    [2, march2, 3, 1, { formula: 'C3*D3', result: 3 }, { richText: [{ text: 'bold ' }, { text: 'and plain' }] }],
    [3, null, 1, 2, { formula: 'C4*D4' }, 'merged note'],
    [4, march1, null, null, null, null],
  ]);
  orders.mergeCells('F4:F5'); // "merged note" spans rows 3 and 4
  orders.getColumn(2).numFmt = 'yyyy-mm-dd';
  book.addWorksheet('Empty');
  return new Uint8Array(await book.xlsx.writeBuffer());
}

/**
 * What the `Orders` sheet of {@link ordersWorkbook} holds, as a reader must give it: dates as
 * ISO 8601, formulas as their cached value (none: empty), rich text joined, a merged cell's value
 * in its top-left cell only.
 */
export const ORDERS_COLUMNS = ['id', 'date', 'qty', 'price', 'total', 'note'];
export const ORDERS_CELLS: CellValue[][] = [
  [1, '2024-03-01', 2, 5.5, 11, 'first'],
  [2, '2024-03-02T13:30:00.000Z', 3, 1, 3, 'bold and plain'],
  [3, null, 1, 2, null, 'merged note'],
  [4, '2024-03-01', null, null, null, null],
];

/** Rules for {@link invoiceRow}'s table: an invoice number (a pattern) and a flag (a keyword), named {@link INVOICE_FIELDS}. */
export const INVOICE_RULES: JsonValue = [
  { name: 'invoice', pattern: String.raw`INV-(\d+)` },
  { name: 'flag', keywords: ['urgent'] },
];

export const INVOICE_FIELDS = ['invoice', 'flag'];

/** Row `i` of the generated table: delimiters, quotes and line breaks in its cells; an invoice number on two rows of three, "urgent" on every fourth. */
export function invoiceRow(i: number): string[] {
  const note = `${i % 3 === 0 ? 'no number' : `Invoice INV-${1000 + i}`}; said "ok"\n${i % 4 === 0 ? 'urgent, ' : ''}line 2`;
  return [`Item ${i}`, note, `${i}.5`];
}

/** The fields {@link INVOICE_RULES} must find in row `i` (the reference, from how the row was made). */
export function invoiceFields(i: number): string[] {
  return [i % 3 === 0 ? '' : String(1000 + i), i % 4 === 0 ? 'urgent' : ''];
}

/** Sheets First (read), Second (its part removed), Third (its target `../../../../etc/passwd`). */
export async function brokenBook(): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.addWorksheet('First').addRows([['name', 'note'], ['Acme', 'paid']]);
  book.addWorksheet('Second').addRows([['a'], ['1']]);
  book.addWorksheet('Third').addRows([['b'], ['2']]);
  const zip = await JSZip.loadAsync(await book.xlsx.writeBuffer());
  zip.remove('xl/worksheets/sheet2.xml');
  const rels = (await zip.file('xl/_rels/workbook.xml.rels')?.async('string')) ?? '';
  assert.match(rels, /worksheets\/sheet3\.xml/);
  zip.file('xl/_rels/workbook.xml.rels', rels.replace(/Target="[^"]*worksheets\/sheet3\.xml"/, 'Target="../../../../etc/passwd"'));
  return zip.generateAsync({ type: 'nodebuffer' });
}
