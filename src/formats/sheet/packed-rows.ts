// A batch of rows packed where it was read (a pool thread): the rules run on each row there and
// the checkpoint's body is written there, so the main thread gets one text per batch and never
// builds the rows (docs/benchmarks.md, "Spreadsheets"). Each row is turned into its JSON text
// and its matches as it is read, then let go: a batch's rows held as objects until the end
// survived the young generation's collections, and copying them was most of the thread's time.
import { rowRules, type RowRules } from '../../analyzers/rules/analyzer.ts';
import type { RuleSpec } from '../../analyzers/rules/spec.ts';
import type { PackedRows, PageText } from '../types.ts';
import { eachRow, type RawRows, type TableReadOptions } from './table.ts';

/** No rules: no analyzer runs, and a chunk has no fields (as the engine's `analyzeChunk` of none). */
const NO_RULES: RowRules = { add: () => undefined, fields: () => ({}) };

/**
 * The data rows `(from, to]` of `rows` and their rules' fields as the chunk's checkpoint:
 * `packChunk` (pipeline/merge.ts) makes the same text from the same rows, `JSON.stringify` of
 * `{ pages, fields }`, here written a row at a time.
 */
export async function packRows(
  rows: RawRows,
  from: number,
  to: number,
  options: TableReadOptions,
  specs: readonly RuleSpec[],
): Promise<PackedRows> {
  const rules = specs.length === 0 ? NO_RULES : rowRules(specs);
  const texts: string[] = [];
  const failures = await eachRow(rows, from, to, options, (page: PageText) => {
    rules.add(page);
    texts.push(JSON.stringify(page));
  });
  // Rows with nothing read have no analysis, as in the engine.
  const fields = texts.length > 0 ? rules.fields() : {};
  failures.sort((a, b) => a.page - b.page);
  const body = `{"pages":[${texts.join(',')}],"fields":${JSON.stringify(fields)}}`;
  return { failures, fieldNames: Object.keys(fields), pagesRead: texts.length, body };
}
