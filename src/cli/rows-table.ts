// The table `ream rows` writes: the input's columns, one column per extracted field, and
// `error_code`/`error_message` for rows that failed; one row per input row, in input order.
// Rows come from the document's pages one chunk at a time, so a table of a million rows is
// written with memory for one chunk.
import type { DocumentPageResult } from '../runtime/ream.ts';
import { columnNames } from '../formats/sheet/cells.ts';
import type { CellValue } from '../formats/types.ts';
import type { DocumentOutput } from '../pipeline/types.ts';
import { VALUES_JOINER } from '../exports/result-table.ts';


export interface OutputTable {
  /** Column names, unique: a field or error column named like an input column gets `_2`. */
  header: string[];
  /** The rows in input order, a checkpoint's at a time; `counts` is complete once they have all been taken. */
  batches: AsyncIterable<CellValue[][]>;
  counts: { rows: number; failedRows: number };
}

/**
 * The output table of a table document: its result names the columns and fields, `batches`
 * gives the rows (`Ream.documentPageBatches`). A row that could not be read keeps its number and
 * place but not its cells, and says why in the error columns; a row read whose analysis failed
 * keeps its cells and says why too.
 */
export function outputTable(output: DocumentOutput, batches: AsyncIterable<DocumentPageResult[]>): OutputTable {
  const columns = output.metadata?.columns ?? [];
  const fieldNames = Object.keys(output.fields);
  const header = columnNames([...columns, ...fieldNames, 'error_code', 'error_message']);
  const counts = { rows: 0, failedRows: 0 };
  const width = header.length;
  // A loop per row rather than spreads of maps: a million rows make a million of each.
  const tableRow = ({ read, fields, failure }: DocumentPageResult): CellValue[] => {
    const row = new Array<CellValue>(width);
    let i = 0;
    const cells = read?.cells;
    for (const column of columns) row[i++] = cells?.[column] ?? null;
    for (const name of fieldNames) row[i++] = fields[name]?.map((match) => match.value).join(VALUES_JOINER) ?? null;
    row[i++] = failure?.code ?? null;
    row[i] = failure?.message ?? null;
    return row;
  };
  async function* rows(): AsyncGenerator<CellValue[][]> {
    for await (const pages of batches) {
      counts.rows += pages.length;
      for (const page of pages) if (page.failure) counts.failedRows++;
      yield pages.map(tableRow);
    }
  }
  return { header, batches: rows(), counts };
}
