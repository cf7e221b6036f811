// CSV formula injection (OWASP "CSV Injection"): a spreadsheet opening a CSV runs a cell that
// starts with `=`, `+`, `-` or `@` as a formula (and a leading tab or carriage return can hide
// one), so text from a document (`=HYPERLINK(…)`, `-2+3+cmd|…`) could act on the reader's machine.
// Such a cell is written with a leading `'`, which spreadsheets show as text and do not evaluate.

export { CSV_FORMULA_MODES, type CsvFormulaMode } from '../api-types.ts';

const RISKY_START = /^[=+\-@\t\r]/;
/**
 * A plain number (`-3`, `+12`, `-1,234.50`, `-2.5e3`) starts with a sign but is no formula: a
 * spreadsheet reads it as a number, so it is left as it is (prefixing it would turn amounts into text).
 */
const PLAIN_NUMBER = /^[+-]?\d+(?:[.,]\d+)*(?:[eE][+-]?\d+)?$/;

/** True when a spreadsheet could take `text` for a formula. */
export function looksLikeFormula(text: string): boolean {
  return RISKY_START.test(text) && !PLAIN_NUMBER.test(text);
}

/** `text` as a CSV cell: prefixed with `'` when a spreadsheet could take it for a formula. */
export function escapeFormula(text: string): string {
  return looksLikeFormula(text) ? `'${text}` : text;
}
