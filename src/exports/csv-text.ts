// CSV text of rows, as csv-stringify writes them with its defaults (`,`, `"`, `\n` after every
// record) and numbers and booleans as JavaScript prints them: the same bytes, without its
// stream, its per-field option checks and its callbacks, which cost more than the rows of a
// long table (docs/benchmarks.md, "Spreadsheets").
import type { CellValue } from '../formats/types.ts';

/** What makes csv-stringify quote a field: the delimiter, the quote, or a line break. */
const NEEDS_QUOTES = /[",\r\n]/;

/** One field: empty for `null`, quoted (its quotes doubled) when it must be. */
export function csvField(value: CellValue | undefined): string {
  if (value === null || value === undefined) return '';
  const text = typeof value === 'string' ? value : String(value);
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** The records of `rows`, each ended by `\n`. */
export function csvText(rows: readonly (readonly CellValue[])[]): string {
  let text = '';
  for (const row of rows) {
    let line = '';
    for (let i = 0; i < row.length; i++) line += i === 0 ? csvField(row[i]) : `,${csvField(row[i])}`;
    text += `${line}\n`;
  }
  return text;
}
