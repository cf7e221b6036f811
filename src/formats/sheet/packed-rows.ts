// A batch of rows packed where it was read (a pool thread): the rules run on each row there and
// the checkpoint's body is written there, so the main thread gets one text per batch and never
// builds the rows (docs/benchmarks.md, "Spreadsheets"). Each row is turned into its JSON text
// and its matches as it is read, then let go (text-buffer.ts): a batch's rows held as objects or
// strings until the end survived the young generation's collections.
// A row is stored as its values only: its text repeats its cells (`column: value` lines,
// cells.ts) and its cells repeat the column names, together ~70% of a batch's checkpoint. The
// body names the rows' columns once (`columns`), and `unpackChunk` (pipeline/merge.ts) makes
// each row's cells and text again from them when the checkpoint is read.
// Asked for (`csv`), each row is also written as the CSV record `ream rows` writes for it
// (exports/rows-csv.ts), so the CLI appends the batch's text as it is, without parsing its body.
import { rowRules, type RowRules } from '../../analyzers/rules/analyzer.ts';
import type { RuleSpec } from '../../analyzers/rules/spec.ts';
import { tableCsvRecord } from '../../exports/rows-csv.ts';
import type { CellValue, PackedRows, PageFailure, StoredRow } from '../types.ts';
import { rowText } from './cells.ts';
import { eachRow, type RawRows, type TableReadOptions } from './table.ts';
import { TextBuffer } from './text-buffer.ts';

/** No rules: no analyzer runs, and a chunk has no fields (as the engine's `analyzeChunk` of none). */
const NO_RULES: RowRules = { add: () => [], fields: () => ({}) };

/**
 * The data rows `(from, to]` of `rows` and their rules' fields as the chunk's checkpoint: read
 * back (`unpackChunk`), the same pages and fields as `packChunk` (pipeline/merge.ts) stores of
 * the same rows, here written a row at a time without the rows' text. With `csv`, the rows' CSV
 * records too (none when the rows keep only some columns: the table written back has them all).
 */
export async function packRows(
  rows: RawRows,
  from: number,
  to: number,
  options: TableReadOptions,
  specs: readonly RuleSpec[],
  csv = false,
): Promise<PackedRows> {
  const rules = specs.length === 0 ? NO_RULES : rowRules(specs);
  const body = new TextBuffer();
  body.append('{"pages":[');
  let pagesRead = 0;
  // Every row of the range comes to `onValues` or `onFailure`, in order (`eachRow`): its record
  // is written where it belongs. The fields' count is the rules' (a batch with no row read has
  // none, and its records are not kept: see `csvRecords` in runtime/document-pages.ts).
  const records = csv && !options.columns ? new TextBuffer() : undefined;
  const fieldCount = specs.length;
  // The header's columns: a failed row's record has an empty cell for each.
  let columns: readonly string[] | undefined = options.start?.columns;
  const onRow = options.onRow;
  const reading: TableReadOptions = records ? { ...options, onRow: (number, names) => ((columns = names), onRow?.(number, names)) } : options;
  // The columns of the rows' values (the header's, or the ones kept), stored once.
  let valueColumns: readonly string[] = [];
  const onValues = (page: number, names: readonly string[], values: CellValue[]): void => {
    valueColumns = names;
    const matches = rules.add({ page, text: rowText(names, values) });
    if (pagesRead++ > 0) body.append(',');
    body.append(JSON.stringify({ page, values } satisfies StoredRow));
    if (records) records.append(csvRecord(values, matches, undefined));
  };
  let unknownColumns = false;
  const onFailure = (failure: PageFailure): void => {
    if (!records) return;
    if (!columns) unknownColumns = true;
    else records.append(csvRecord(columns.map(() => null), new Array<undefined>(fieldCount), failure));
  };
  const failures = await eachRow(rows, from, to, reading, onValues, onFailure);
  // Rows with nothing read have no analysis, as in the engine.
  const fields = pagesRead > 0 ? rules.fields() : {};
  failures.sort((a, b) => a.page - b.page);
  body.append(`],"fields":${JSON.stringify(fields)},"columns":${JSON.stringify(valueColumns)}}`);
  const text = records && columns && !unknownColumns ? records.toString() : undefined;
  return { failures, fieldNames: Object.keys(fields), pagesRead, body: body.toString(), ...(text === undefined ? {} : { csv: text }) };
}

/** A row's CSV record: its cells as they are, its fields and failure guarded (exports/rows-csv.ts). */
function csvRecord(cells: readonly CellValue[], matches: ReadonlyArray<readonly { value: string }[] | undefined>, failure: PageFailure | undefined): string {
  return tableCsvRecord(cells, matches, failure);
}
