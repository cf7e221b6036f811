// The table `ream rows` writes: the input's columns, one column per extracted field, and
// `error_code`/`error_message` for rows that failed; one row per input row, in input order.
import type { FieldMatch } from '../analyzers/port.ts';
import { columnNames } from '../formats/sheet/cells.ts';
import type { CellValue } from '../formats/types.ts';
import type { DocumentOutput } from '../pipeline/types.ts';

/** Several values of one field in one row (a rule with `all`) share its cell, joined by this. */
export const VALUES_JOINER = '; ';

export interface OutputTable {
  /** Column names, unique: a field or error column named like an input column gets `_2`. */
  header: string[];
  rows: Iterable<CellValue[]>;
  rowCount: number;
  failedRows: number;
}

/**
 * The output table of a table document's result. A failed row keeps its number and place but
 * not its cells (they could not be read), and says why in the error columns.
 */
export function outputTable(output: DocumentOutput): OutputTable {
  const columns = output.metadata?.columns ?? [];
  const fieldNames = Object.keys(output.fields);
  const header = columnNames([...columns, ...fieldNames, 'error_code', 'error_message']);
  const byRow = fieldsByRow(output.fields);
  const rowCount = output.pageCount ?? output.pages.length + output.failedPages.length;
  function* rows(): Generator<CellValue[]> {
    let read = 0;
    let failed = 0;
    for (let row = 1; row <= rowCount; row++) {
      const page = output.pages[read]?.page === row ? output.pages[read++] : undefined;
      const failure = output.failedPages[failed]?.page === row ? output.failedPages[failed++] : undefined;
      const fields = byRow.get(row);
      yield [
        ...columns.map((column) => page?.cells?.[column] ?? null),
        ...fieldNames.map((name) => fields?.get(name)?.join(VALUES_JOINER) ?? null),
        failure?.code ?? (page ? null : 'internal'),
        failure?.message ?? (page ? null : 'the row has no result'),
      ];
    }
  }
  // A row fails when it could not be read (no page) or its analysis failed (a page and a failure).
  const analysedFailed = new Set(output.failedPages.map((failure) => failure.page));
  const readButFailed = output.pages.filter((page) => analysedFailed.has(page.page)).length;
  return { header, rows: rows(), rowCount, failedRows: rowCount - output.pages.length + readButFailed };
}

/** row → field → values, in the order found. */
function fieldsByRow(fields: Record<string, FieldMatch[]>): Map<number, Map<string, string[]>> {
  const byRow = new Map<number, Map<string, string[]>>();
  for (const [name, matches] of Object.entries(fields)) {
    for (const match of matches) {
      const row = byRow.get(match.page) ?? new Map<string, string[]>();
      byRow.set(match.page, row);
      row.set(name, [...(row.get(name) ?? []), match.value]);
    }
  }
  return byRow;
}
