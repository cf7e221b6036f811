// A batch of rows packed where it was read (a pool thread): the rules run on each row there and
// the checkpoint's body is written there, so the main thread gets one text per batch and never
// builds the rows (docs/benchmarks.md, "Spreadsheets"). Each row is turned into its JSON text
// and its matches as it is read, then let go: a batch's rows held as objects until the end
// survived the young generation's collections, and copying them was most of the thread's time.
// Asked for (`csv`), each row is also written as the CSV record `ream rows` writes for it
// (exports/rows-csv.ts), so the CLI appends the batch's text as it is, without parsing its body.
import { rowRules, type RowRules } from '../../analyzers/rules/analyzer.ts';
import type { RuleSpec } from '../../analyzers/rules/spec.ts';
import { guardedCsvText, tableRowCells } from '../../exports/rows-csv.ts';
import type { CellValue, PackedRows, PageFailure, PageText } from '../types.ts';
import { eachRow, type RawRows, type TableReadOptions } from './table.ts';

/** No rules: no analyzer runs, and a chunk has no fields (as the engine's `analyzeChunk` of none). */
const NO_RULES: RowRules = { add: () => [], fields: () => ({}) };

/**
 * The data rows `(from, to]` of `rows` and their rules' fields as the chunk's checkpoint:
 * `packChunk` (pipeline/merge.ts) makes the same text from the same rows, `JSON.stringify` of
 * `{ pages, fields }`, here written a row at a time. With `csv`, the rows' CSV records too
 * (none when the rows keep only some columns: the table written back has them all).
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
  const texts: string[] = [];
  /** Each page's CSV record, by its place in the range. */
  const records: string[] | undefined = csv && !options.columns ? new Array<string>(to - from) : undefined;
  let columns: readonly string[] | undefined = options.start?.columns;
  const onRow = options.onRow;
  const reading: TableReadOptions = records ? { ...options, onRow: (number, names) => ((columns = names), onRow?.(number, names)) } : options;
  const failures = await eachRow(rows, from, to, reading, (page: PageText) => {
    const matches = rules.add(page);
    texts.push(JSON.stringify(page));
    if (records && columns) records[page.page - from - 1] = csvRecord(columns, columns.map((column) => page.cells?.[column] ?? null), matches, undefined);
  });
  // Rows with nothing read have no analysis, as in the engine.
  const fields = texts.length > 0 ? rules.fields() : {};
  failures.sort((a, b) => a.page - b.page);
  const body = `{"pages":[${texts.join(',')}],"fields":${JSON.stringify(fields)}}`;
  const fieldNames = Object.keys(fields);
  const text = records && columns && csvText(records, columns, fieldNames.length, failures, from);
  return { failures, fieldNames, pagesRead: texts.length, body, ...(text === undefined ? {} : { csv: text }) };
}

/** A row's CSV record: its cells as they are, its fields and failure guarded (exports/rows-csv.ts). */
function csvRecord(columns: readonly string[], cells: readonly CellValue[], matches: ReadonlyArray<readonly { value: string }[] | undefined>, failure: PageFailure | undefined): string {
  return guardedCsvText([tableRowCells(cells, matches, failure)], columns.length);
}

/** The records of the range in page order, a failed row's (no cells, no fields) where it failed. */
function csvText(records: string[], columns: readonly string[], fieldCount: number, failures: readonly PageFailure[], from: number): string {
  const empty = columns.map(() => null);
  const noFields = new Array<undefined>(fieldCount).fill(undefined);
  for (const failure of failures) records[failure.page - from - 1] ??= csvRecord(columns, empty, noFields, failure);
  // Every page is read or failed; one that is neither is said as the writer says it (runtime/document-pages.ts).
  for (let i = 0; i < records.length; i++) {
    records[i] ??= csvRecord(columns, empty, noFields, { page: from + i + 1, code: 'internal', message: 'the page has no result' });
  }
  return records.join('');
}
