import type { Analyzer } from '../analyzers/port.ts';
import { parseRuleSpecs, rulesAnalyzer } from '../analyzers/rules/index.ts';
import { ReamError } from '../errors.ts';
import { OCR_OPTION_KEYS, parseOcrOptions } from '../formats/ocr/ocr-options.ts';
import { PDF_OPTION_KEYS, parsePdfOptions } from '../formats/pdf/pdf-options.ts';
import type { ReadLimits } from '../formats/types.ts';
import type { JsonObject } from '../json.ts';
import { reportsAnalyzer } from '../reports/reports-analyzer.ts';
import { REPORT_OPTIONS, reportSpec } from '../reports/report-options.ts';
import { EXTRACT_OPTIONS_SCHEMA, REPORT_OPTIONS_SCHEMA, RULES_OPTIONS_SCHEMA } from './option-schemas.ts';
import { DEFAULT_ATTACHMENT_LIMITS, type Pipeline, type PipelineFactory } from './types.ts';

/** Defaults every built-in pipeline starts from; each can be overridden by job options. */
export const DEFAULT_LIMITS: ReadLimits = {
  /** 1 GiB: larger files are refused with `file_too_large`. */
  maxBytes: 1024 * 1024 * 1024,
  /** Longer documents are refused with `too_many_pages`. */
  maxPages: 10_000,
};
/** Pages per chunk: small enough that two threads share a big book, large enough that re-opening
 * the document per chunk stays a small cost (see docs/benchmarks.md). */
export const DEFAULT_CHUNK_PAGES = 50;

/** The options every built-in pipeline takes; each pipeline may add its own. */
export const BASE_OPTIONS = [
  'maxBytes', 'maxPages', 'chunkPages', 'index', 'links', 'maxAttachments', 'maxAttachmentBytes', 'maxAttachmentDepth', ...OCR_OPTION_KEYS, ...PDF_OPTION_KEYS,
] as const;

export function positiveInteger(options: JsonObject, key: string, fallback: number): number {
  const value = options[key];
  if (value === undefined || value === null) return fallback;
  // Safe integers only: 1e300 is an "integer" to JavaScript and means nothing as a page count.
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw ReamError.nonRetryable('validation_failed', `option "${key}" must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return value;
}

/**
 * Refuses options the pipeline does not know, as unknown request fields are refused: a typo
 * (`maxpages`) must not silently leave the default in force, and options are stored with the job.
 */
export function refuseUnknown(pipeline: string, options: JsonObject, known: readonly string[]): void {
  const unknown = Object.keys(options).find((key) => !known.includes(key));
  if (unknown !== undefined) {
    throw ReamError.nonRetryable('validation_failed', `unknown option "${unknown}" (the ${pipeline} pipeline takes ${known.join(', ')})`);
  }
}

/** A count that may be zero (`maxAttachmentDepth: 0`: no attachment is read). */
function countOption(options: JsonObject, key: string, fallback: number): number {
  return options[key] === 0 ? 0 : positiveInteger(options, key, fallback);
}

export function baseOptions(options: JsonObject): Pick<Pipeline, 'limits' | 'chunkPages' | 'index' | 'read' | 'attachments'> {
  const index = options.index ?? true;
  if (typeof index !== 'boolean') throw ReamError.nonRetryable('validation_failed', 'option "index" must be true or false');
  const links = options.links ?? false;
  if (typeof links !== 'boolean') throw ReamError.nonRetryable('validation_failed', 'option "links" must be true or false');
  return {
    limits: {
      maxBytes: positiveInteger(options, 'maxBytes', DEFAULT_LIMITS.maxBytes),
      maxPages: positiveInteger(options, 'maxPages', DEFAULT_LIMITS.maxPages),
    },
    chunkPages: positiveInteger(options, 'chunkPages', DEFAULT_CHUNK_PAGES),
    attachments: {
      maxFiles: countOption(options, 'maxAttachments', DEFAULT_ATTACHMENT_LIMITS.maxFiles),
      maxFileBytes: positiveInteger(options, 'maxAttachmentBytes', DEFAULT_ATTACHMENT_LIMITS.maxFileBytes),
      maxDepth: countOption(options, 'maxAttachmentDepth', DEFAULT_ATTACHMENT_LIMITS.maxDepth),
    },
    index,
    // A table is read as text per sheet: the `rows` pipeline asks for its rows instead.
    read: { ocr: parseOcrOptions(options), links, tablePages: 'sheets', ...parsePdfOptions(options) },
  };
}

/** The report analyzer of a document pipeline's `template` option: one report per document. */
function documentReports(options: JsonObject): Analyzer[] {
  const report = reportSpec(options);
  return report ? [reportsAnalyzer(report, 'document')] : [];
}

/**
 * `extract`: validate → extract text and metadata → chunk → index → complete (and a report per
 * document with `template`). Option `pagesInResult` (default true): false leaves the pages out of
 * the document's result (`ream run --text none` asks for that).
 */
const extract: PipelineFactory = (options) => {
  refuseUnknown('extract', options, [...BASE_OPTIONS, 'pagesInResult', ...REPORT_OPTIONS]);
  const pagesInResult = options.pagesInResult ?? true;
  if (typeof pagesInResult !== 'boolean') throw ReamError.nonRetryable('validation_failed', 'option "pagesInResult" must be true or false');
  return {
    name: 'extract', analyzers: documentReports(options), ...baseOptions(options),
    // false: the pages stay in the chunk checkpoints only (`pagesOmitted`, read with
    // `Ream.documentPages`): a result nobody reads the text of is not written and read again whole.
    ...(pagesInResult ? {} : { maxPagesInResult: 0 }),
  };
};

/** `rules`: `extract` plus the rule-based field analyzer; options.rules holds the rules. */
const rules: PipelineFactory = (options) => {
  refuseUnknown('rules', options, [...BASE_OPTIONS, 'rules', ...REPORT_OPTIONS]);
  if (options.rules === undefined) {
    throw ReamError.nonRetryable('validation_failed', 'the "rules" pipeline needs options.rules (ream run --rules rules.json)');
  }
  return { name: 'rules', analyzers: [rulesAnalyzer(parseRuleSpecs(options.rules)), ...documentReports(options)], ...baseOptions(options) };
};

/**
 * `report`: one rendered report per document (HTML, and PDF with `pdf: true`) from
 * `options.template`, stored as job artifacts; `options.rules`, when given, fill the fields the
 * template shows. The same as `extract` or `rules` with a template, under a name that says so.
 */
const report: PipelineFactory = (options) => {
  refuseUnknown('report', options, [...BASE_OPTIONS, 'rules', ...REPORT_OPTIONS]);
  if (options.template === undefined) {
    throw ReamError.nonRetryable('validation_failed', 'the "report" pipeline needs options.template (a Liquid template; ream run --template report.liquid)');
  }
  const fields = options.rules === undefined ? [] : [rulesAnalyzer(parseRuleSpecs(options.rules))];
  return { name: 'report', analyzers: [...fields, ...documentReports(options)], ...baseOptions(options) };
};

export const builtinPipelines: Record<string, PipelineFactory> = {
  extract: Object.assign(extract, { optionsSchema: EXTRACT_OPTIONS_SCHEMA }),
  rules: Object.assign(rules, { optionsSchema: RULES_OPTIONS_SCHEMA }),
  report: Object.assign(report, { optionsSchema: REPORT_OPTIONS_SCHEMA }),
};
