// A batch of rows packed where it was read (a pool thread): the rules run on each row there and
// the checkpoint's body is written there, so the main thread gets one text per batch and never
// builds the rows (docs/benchmarks.md, "Spreadsheets").
import type { Fields } from '../../analyzers/port.ts';
import { rowRulesFinder } from '../../analyzers/rules/analyzer.ts';
import type { RuleSpec } from '../../analyzers/rules/spec.ts';
import type { PackedRows, PageText } from '../types.ts';
import type { RowRange } from './table.ts';

/** The rows' fields per `specs`, each row alone (`[]`: no analyzer, no fields). */
export function rowFields(specs: readonly RuleSpec[]): (pages: readonly PageText[]) => Fields {
  return specs.length === 0 ? () => ({}) : rowRulesFinder(specs);
}

/**
 * `range` and its rules' fields as the chunk's checkpoint (`packChunk` in pipeline/merge.ts makes
 * the same text from the same rows): rows with nothing read have no analysis, as in the engine.
 */
export function packRows(range: RowRange, findFields: (pages: readonly PageText[]) => Fields): PackedRows {
  const fields = range.pages.length > 0 ? findFields(range.pages) : {};
  const failures = [...range.failures].sort((a, b) => a.page - b.page);
  return { failures, fieldNames: Object.keys(fields), pagesRead: range.pages.length, body: JSON.stringify({ pages: range.pages, fields }) };
}
