import { createLlmAnalyzer } from '../analyzers/llm/analyzer.ts';
import type { LlmClient } from '../analyzers/llm/llm-client.ts';
import { SPEC_KEYS } from '../analyzers/llm/spec.ts';
import { perPage } from '../analyzers/per-page.ts';
import type { Analyzer } from '../analyzers/port.ts';
import { parseRuleSpecs, rulesAnalyzer } from '../analyzers/rules/index.ts';
import { ReamError } from '../errors.ts';
import { asJson, type JsonObject, type JsonValue } from '../json.ts';
import { reportsAnalyzer } from '../reports/reports-analyzer.ts';
import { REPORT_OPTIONS, reportSpec } from '../reports/report-options.ts';
import { BASE_OPTIONS, baseOptions, positiveInteger, refuseUnknown } from './builtin.ts';
import { ROWS_OPTIONS_SCHEMA } from './option-schemas.ts';
import type { Pipeline, PipelineFactory } from './types.ts';

/**
 * Rows per task when each row is cheap (rules, or no analyzer): a task's fixed costs (its
 * queue round trip, checkpoint, events, opening the file) are paid per 2,000 rows, where they
 * vanish, and a 1,000,000-row table is 500 tasks, not 5,000 (docs/benchmarks.md,
 * "Spreadsheets"). A 10,000-row sheet still spreads over 5 tasks. `options.chunkPages` overrides it.
 */
export const DEFAULT_ROWS_PER_TASK = 2000;
/**
 * Rows per task when each row is slow (a model call, a rendered report): a retried or resumed
 * task redoes at most 200 such rows, and a few hundred rows still spread over the threads.
 */
export const DEFAULT_SLOW_ROWS_PER_TASK = 200;
/** Data rows a table may have (`options.maxPages`; a row counts as a page). */
export const DEFAULT_MAX_ROWS = 1_000_000;

/**
 * Rows listed in a table's result; a longer table's rows stay in their checkpoints
 * (`pagesOmitted`) and are read row by row (`Ream.documentPages`), so memory stays flat.
 */
export const MAX_ROWS_IN_RESULT = 10_000;

/** What the model is asked about each row: the `llm` pipeline's options but the document-level ones. */
const ROW_LLM_KEYS = SPEC_KEYS.filter((key) => key !== 'reducePrompt');

/**
 * `rows`: a table (CSV, XLSX) row by row. Every data row is an item: the rules, if any, and the
 * model, if `llm` options are given, run on each row alone (`perPage`), so each row gets its own
 * fields (and a row whose answer fails gets its own error). With `options.template` each row is
 * rendered to an HTML report (and PDF with `pdf`), kept as a job artifact named by `options.name`.
 * `options.sheet` picks a workbook's sheet by name, `options.columns` the columns each row keeps. Other documents read as with `extract`, a
 * page per item. `client` is the process's model client (none: `llm` options are refused).
 */
export function rowsPipeline(client?: LlmClient): PipelineFactory {
  const factory = (options: JsonObject): Pipeline => {
    refuseUnknown('rows', options, [...BASE_OPTIONS, 'rules', 'sheet', 'columns', 'llm', 'tableCsv', ...REPORT_OPTIONS]);
    const columns = parseColumns(options.columns);
    const { sheet, tableCsv } = options;
    if (tableCsv !== undefined && typeof tableCsv !== 'boolean') throw ReamError.nonRetryable('validation_failed', 'option "tableCsv" must be true or false');
    if (sheet !== undefined && (typeof sheet !== 'string' || sheet === '')) {
      throw ReamError.nonRetryable('validation_failed', 'option "sheet" must be the name of a sheet');
    }
    const ruleSpecs = options.rules === undefined ? undefined : parseRuleSpecs(options.rules);
    const rules = ruleSpecs === undefined ? undefined : perPage(rulesAnalyzer(ruleSpecs));
    const analyzers: Analyzer[] = rules ? [rules] : [];
    if (options.llm !== undefined) analyzers.push(perPage(rowLlmAnalyzer(options.llm, client)));
    const report = reportSpec(options);
    if (report) analyzers.push(reportsAnalyzer(report));
    const base = baseOptions(options);
    // Rules (or nothing) alone: they run in the thread that reads the rows (`Pipeline.rowRules`).
    const rulesOnly = analyzers.every((analyzer) => analyzer === rules);
    return {
      name: 'rows',
      ...base,
      limits: { ...base.limits, maxPages: positiveInteger(options, 'maxPages', DEFAULT_MAX_ROWS) },
      chunkPages: positiveInteger(options, 'chunkPages', rulesOnly ? DEFAULT_ROWS_PER_TASK : DEFAULT_SLOW_ROWS_PER_TASK),
      maxPagesInResult: MAX_ROWS_IN_RESULT,
      analyzers,
      ...(rulesOnly ? { rowRules: asJson(ruleSpecs ?? []) } : {}),
      read: { ...base.read, tablePages: 'rows', ...(typeof sheet === 'string' ? { sheet } : {}), ...(columns ? { columns } : {}), ...(tableCsv === true ? { tableCsv } : {}) },
    };
  };
  return Object.assign(factory, { optionsSchema: ROWS_OPTIONS_SCHEMA });
}

/**
 * `options.columns`: the columns fed to each row's rules, model and template, by header name.
 * Checked here for its form; a name the table lacks is refused when the table is read.
 */
function parseColumns(value: JsonValue | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const valid = Array.isArray(value) && value.length > 0 && value.every((name) => typeof name === 'string' && name !== '');
  if (!valid || new Set(value).size !== value.length) {
    throw ReamError.nonRetryable('validation_failed', 'option "columns" must be a non-empty list of distinct column names');
  }
  return value as string[];
}

/** The LLM analyzer of `options.llm` (mode, schema, prompt, …), asked about one row at a time. */
function rowLlmAnalyzer(options: JsonValue, client: LlmClient | undefined): Analyzer {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw ReamError.nonRetryable('validation_failed', 'option "llm" must be an object of model options (mode, schema, prompt, …)');
  }
  if (options.reducePrompt !== undefined) {
    throw ReamError.nonRetryable('validation_failed', 'option "llm.reducePrompt" does not apply to rows: each row is answered alone, nothing is combined');
  }
  refuseUnknown('rows pipeline\'s "llm" option', options, ROW_LLM_KEYS);
  if (!client) {
    throw ReamError.nonRetryable('validation_failed', 'option "llm" needs a model provider: set REAM_LLM_MODEL (and REAM_LLM_BASE_URL, REAM_LLM_API_KEY) or createReam({ llm })');
  }
  return createLlmAnalyzer({ ...(options as object), client });
}
