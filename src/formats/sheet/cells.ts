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
  // Built as own properties (fromEntries defines them): assigning would take a column named
  // `__proto__` for the object's prototype, and its values would be lost.
  return Object.fromEntries(columns.map((column, i) => [column, cells[i] ?? null]));
}

/**
 * Column names from a header row: trimmed; a blank one is `column_<n>` (its 1-based position),
 * a repeated one gets `_2`, `_3`… so that every name keys exactly one column.
 */
export function columnNames(header: readonly CellValue[]): string[] {
  const taken = new Set<string>();
  // Per name, the suffix to try next: a header repeating one name 40,000 times is named in linear time, not by trying _2, _3, … for each.
  const next = new Map<string, number>();
  return header.map((value, i) => {
    const base = cellText(value).trim() || `column_${i + 1}`;
    let name = base;
    let n = next.get(base) ?? 2;
    for (; taken.has(name); n++) name = `${base}_${n}`;
    next.set(base, n);
    taken.add(name);
    return name;
  });
}

/** True when no cell holds anything: such rows are skipped, as spreadsheet users expect of blank lines. */
export function isBlankRow(cells: readonly CellValue[]): boolean {
  return cells.every((cell) => cell === null || cell === '');
}
