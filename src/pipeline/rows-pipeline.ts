import { perPage } from '../analyzers/per-page.ts';
import { parseRuleSpecs, rulesAnalyzer } from '../analyzers/rules/index.ts';
import { ReamError } from '../errors.ts';
import type { JsonObject } from '../json.ts';
import { reportsAnalyzer } from '../reports/reports-analyzer.ts';
import { REPORT_OPTIONS, reportSpec } from '../reports/report-options.ts';
import { BASE_OPTIONS, baseOptions, positiveInteger, refuseUnknown } from './builtin.ts';
import type { PipelineFactory } from './types.ts';

/**
 * Rows per task. A row is a page, but a small one: 200 rows make a task worth its checkpoint and
 * events, and a 10,000-row sheet still spreads over 50 tasks. `options.chunkPages` overrides it.
 */
export const DEFAULT_ROWS_PER_TASK = 200;
/** Data rows a table may have (`options.maxPages`; a row counts as a page). */
export const DEFAULT_MAX_ROWS = 1_000_000;

/**
 * `rows`: a table (CSV, XLSX) row by row. Every data row is an item: the rules, if any, run on
 * each row alone (`perPage`), so each row gets its own fields. `options.sheet` picks a
 * workbook's sheet by name. With `options.template` each row is rendered to an HTML report
 * (and PDF with `pdf`), kept as a job artifact named by `options.name`. Other documents read as
 * with `extract`, a page per item.
 */
export const rowsPipeline: PipelineFactory = (options: JsonObject) => {
  refuseUnknown('rows', options, [...BASE_OPTIONS, 'rules', 'sheet', ...REPORT_OPTIONS]);
  const { sheet } = options;
  if (sheet !== undefined && (typeof sheet !== 'string' || sheet === '')) {
    throw ReamError.nonRetryable('validation_failed', 'option "sheet" must be the name of a sheet');
  }
  const base = baseOptions(options);
  const report = reportSpec(options);
  return {
    name: 'rows',
    ...base,
    limits: { ...base.limits, maxPages: positiveInteger(options, 'maxPages', DEFAULT_MAX_ROWS) },
    chunkPages: positiveInteger(options, 'chunkPages', DEFAULT_ROWS_PER_TASK),
    analyzers: [
      ...(options.rules === undefined ? [] : [perPage(rulesAnalyzer(parseRuleSpecs(options.rules)))]),
      ...(report ? [reportsAnalyzer(report)] : []),
    ],
    ...(typeof sheet === 'string' ? { read: { ...base.read, sheet } } : {}),
  };
};
