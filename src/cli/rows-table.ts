// The table `ream rows` writes: the input's columns, one column per extracted field, and
// `error_code`/`error_message` for rows that failed; one row per input row, in input order.
// Rows come from the document's pages one chunk at a time, so a table of a million rows is
// written with memory for one chunk.
import { ReamError } from '../errors.ts';
import type { DocumentPageResult, TableBatch } from '../runtime/ream.ts';
import type { TableWriter } from './table-writers.ts';
import { columnNames } from '../formats/sheet/cells.ts';
import type { CellValue } from '../formats/types.ts';
import type { DocumentOutput } from '../pipeline/types.ts';
import { tableRowCells } from '../exports/rows-csv.ts';
import { ownValue } from '../own-keys.ts';

export interface OutputTable {
  /** Column names, unique: a field or error column named like an input column gets `_2`. */
  header: string[];
  /** The rows in input order, a checkpoint's at a time; `counts` is complete once they have all been taken. */
  batches: AsyncIterable<CellValue[][]>;
  counts: RowCounts;
}

export interface RowCounts {
  rows: number;
  failedRows: number;
}

/** The output table's columns for a table of `columns` whose rows gave `fieldNames`, and its row of a page. */
export interface TableLayout {
  header: string[];
  /** The fields' columns, in order: a batch's CSV records fit the table if its fields are these. */
  fieldNames: readonly string[];
  /** The rows of a checkpoint's pages, added to `counts`. */
  rows(pages: readonly DocumentPageResult[], counts: RowCounts): CellValue[][];
}

export function tableLayout(columns: readonly string[], fieldNames: readonly string[]): TableLayout {
  const header = columnNames([...columns, ...fieldNames, 'error_code', 'error_message']);
  // A loop per row rather than spreads of maps: a million rows make a million of each.
  const tableRow = ({ read, fields, failure }: DocumentPageResult): CellValue[] => {
    const cells = read?.cells;
    // Own keys only: a row without a match for a field named `constructor` has none (own-keys.ts).
    return tableRowCells(columns.map((column) => ownValue(cells, column) ?? null), fieldNames.map((name) => ownValue(fields, name)), failure);
  };
  return {
    header,
    fieldNames,
    rows(pages, counts) {
      counts.rows += pages.length;
      for (const page of pages) if (page.failure) counts.failedRows++;
      return pages.map(tableRow);
    },
  };
}

/**
 * Writes a batch of the table (`Ream.documentTableBatches`) and adds its rows to `counts`: its
 * CSV records as they are, or its pages laid out by `layout`. Answers the last page written.
 */
export async function writeTableBatch(writer: TableWriter, layout: TableLayout, batch: TableBatch, counts: RowCounts): Promise<number | undefined> {
  if ('pages' in batch) {
    await writer.writeRows(layout.rows(batch.pages, counts));
    return batch.pages.at(-1)?.page;
  }
  // Asked for only when the writer writes CSV (see `csvFieldsOf`).
  if (!writer.writeText) throw ReamError.nonRetryable('internal', 'a batch of CSV records for a writer of another format');
  counts.rows += batch.rows;
  counts.failedRows += batch.failedRows;
  await writer.writeText(batch.csv);
  return batch.to;
}

/** The `csvFields` a writer reads batches with: the layout's fields when it writes CSV, which takes a batch's records as they are. */
export function csvFieldsOf(writer: TableWriter, layout: TableLayout): { csvFields?: readonly string[] } {
  return writer.writeText ? { csvFields: layout.fieldNames } : {};
}

/** The columns and field names of a table document's result (see {@link tableLayout}). */
function outputLayout(output: DocumentOutput): TableLayout {
  return tableLayout(output.metadata?.columns ?? [], Object.keys(output.fields));
}

/**
 * The output table of a table document: its result names the columns and fields, `batches`
 * gives the rows (`Ream.documentPageBatches`). A row that could not be read keeps its number and
 * place but not its cells, and says why in the error columns; a row read whose analysis failed
 * keeps its cells and says why too. `counts`: of rows taken before (written while the job ran).
 */
export function outputTable(output: DocumentOutput, batches: AsyncIterable<DocumentPageResult[]>, counts: RowCounts = { rows: 0, failedRows: 0 }): OutputTable {
  const layout = outputLayout(output);
  async function* rows(): AsyncGenerator<CellValue[][]> {
    for await (const pages of batches) yield layout.rows(pages, counts);
  }
  return { header: layout.header, batches: rows(), counts };
}
