// A row of the table `ream rows` writes, wherever it is made: its input cells, one cell per
// field (the values found in that row, joined) and the error columns. The CLI makes it from a
// checkpoint's pages (cli/rows-table.ts); a pool thread makes it as it reads the row, so that the
// batch's CSV text is stored with its checkpoint and appended as it is (formats/sheet/packed-rows.ts).
// Both go through here, so the bytes are the same whichever wrote them.
import type { CellValue, PageFailure } from '../formats/types.ts';
import { escapeFormula } from './csv-formulas.ts';
import { csvField, csvText } from './csv-text.ts';
import { VALUES_JOINER } from './result-table.ts';

/**
 * `cells` (the input's columns, in order), then per field the values of `fieldMatches` (none: an
 * empty cell), then the failure's code and message.
 */
export function tableRowCells(
  cells: readonly CellValue[],
  fieldMatches: ReadonlyArray<readonly { value: string }[] | undefined>,
  failure: Pick<PageFailure, 'code' | 'message'> | undefined,
): CellValue[] {
  const row = new Array<CellValue>(cells.length + fieldMatches.length + 2);
  let i = 0;
  for (const cell of cells) row[i++] = cell;
  for (const matches of fieldMatches) row[i++] = matches === undefined || matches.length === 0 ? null : matches.map((match) => match.value).join(VALUES_JOINER);
  row[i++] = failure?.code ?? null;
  row[i] = failure?.message ?? null;
  return row;
}

/**
 * CSV records of `rows`; text cells from column `escapeFrom` on are guarded against formula
 * injection (csv-formulas.ts): the columns before it are the user's own, written as they are.
 */
export function guardedCsvText(rows: readonly (readonly CellValue[])[], escapeFrom: number): string {
  if (escapeFrom === Number.POSITIVE_INFINITY) return csvText(rows);
  const guard = (row: readonly CellValue[]): CellValue[] => row.map((cell, i) => (i >= escapeFrom && typeof cell === 'string' ? escapeFormula(cell) : cell));
  return csvText(rows.map(guard));
}

/**
 * The CSV record of {@link tableRowCells}, its fields and failure guarded as {@link guardedCsvText}
 * guards them from the first column after `cells`: the same text, without the row's arrays (a
 * pool thread writes one per row read).
 */
export function tableCsvRecord(
  cells: readonly CellValue[],
  fieldMatches: ReadonlyArray<readonly { value: string }[] | undefined>,
  failure: Pick<PageFailure, 'code' | 'message'> | undefined,
): string {
  let line = '';
  for (let i = 0; i < cells.length; i++) line += i === 0 ? csvField(cells[i]) : `,${csvField(cells[i])}`;
  const added = (text: string | null): string => (text === null ? '' : csvField(escapeFormula(text)));
  let rest = '';
  for (const matches of fieldMatches) rest += `,${added(matches === undefined || matches.length === 0 ? null : matches.map((match) => match.value).join(VALUES_JOINER))}`;
  rest += `,${added(failure?.code ?? null)},${added(failure?.message ?? null)}\n`;
  // Without input cells the first added column has no comma before it.
  return cells.length === 0 ? rest.slice(1) : line + rest;
}
