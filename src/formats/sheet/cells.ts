// The shape every table reader gives its rows, whatever the file: a header of unique column
// names and, per data row, one value per column. A row's text is its cells as `column: value`
// lines, so that analyzers written for pages (the rules analyzer) read a row unchanged.
import type { CellValue, PageText } from '../types.ts';

/** The text of a cell as a user would type it: `null` is empty, numbers and booleans as JavaScript prints them. */
export function cellText(value: CellValue): string {
  return value === null ? '' : String(value);
}

/** A row as `column: value` lines, in column order; line breaks inside a value become spaces, so one cell stays one line. */
export function rowText(columns: readonly string[], cells: readonly CellValue[]): string {
  return columns.map((column, i) => `${column}: ${cellText(cells[i] ?? null).replace(/\r\n?|\n/g, ' ')}`).join('\n');
}

/** A data row as a page: its text (`column: value` lines) and its cells by column. */
export function tableRow(page: number, columns: readonly string[], values: readonly CellValue[]): PageText {
  return { page, text: rowText(columns, values), cells: cellRecord(columns, values) };
}

/** The row's cells keyed by column name (what `PageText.cells` holds). */
export function cellRecord(columns: readonly string[], cells: readonly CellValue[]): Record<string, CellValue> {
  const record: Record<string, CellValue> = {};
  columns.forEach((column, i) => (record[column] = cells[i] ?? null));
  return record;
}

/**
 * Column names from a header row: trimmed; a blank one is `column_<n>` (its 1-based position),
 * a repeated one gets `_2`, `_3`… so that every name keys exactly one column.
 */
export function columnNames(header: readonly CellValue[]): string[] {
  const taken = new Set<string>();
  return header.map((value, i) => {
    const base = cellText(value).trim() || `column_${i + 1}`;
    let name = base;
    for (let n = 2; taken.has(name); n++) name = `${base}_${n}`;
    taken.add(name);
    return name;
  });
}

/** True when no cell holds anything: such rows are skipped, as spreadsheet users expect of blank lines. */
export function isBlankRow(cells: readonly CellValue[]): boolean {
  return cells.every((cell) => cell === null || cell === '');
}
