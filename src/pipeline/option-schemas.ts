// The JSON Schema of each built-in pipeline's options: what `GET /v1/pipelines` publishes (the
// console builds its option form from it) and what the registry checks every job's options
// against, after the pipeline's own checks (which give the more precise messages and check what
// a schema cannot: a rule's pattern, a template's syntax, a language's data file).
import { LLM_MODES } from '../analyzers/llm/spec.ts';
import { MAX_OCR_DPI, MIN_OCR_DPI, OCR_ENGINES, OCR_MODES } from '../formats/ocr/ocr-options.ts';
import { PDF_ENGINES } from '../formats/pdf/pdf-options.ts';
import type { JsonObject } from '../json.ts';

/** A count that may be left out (or null) for its default. */
const positive = (description: string): JsonObject => ({ type: ['integer', 'null'], minimum: 1, description });

const BASE: JsonObject = {
  maxBytes: positive('Larger files are refused with file_too_large (bytes; default 1 GiB)'),
  maxPages: positive('Longer documents are refused with too_many_pages (default 10,000)'),
  chunkPages: positive('Pages per chunk; chunks of one document run in parallel (default 50)'),
  index: { type: 'boolean', description: 'Put page text into the search index (default true)' },
  links: { type: 'boolean', description: 'Keep the links of PDF pages (default false)' },
  ocr: { type: 'string', enum: [...OCR_MODES], description: 'When PDF pages are read by OCR (default auto: pages without text)' },
  ocrLanguages: {
    description: 'Tesseract language codes, a list or one "+"-joined string (default eng)',
    anyOf: [{ type: 'array', items: { type: 'string' }, minItems: 1 }, { type: 'string', minLength: 1 }],
  },
  ocrDpi: { type: 'integer', minimum: MIN_OCR_DPI, maximum: MAX_OCR_DPI, description: 'Resolution pages are drawn at for OCR' },
  ocrEngine: { type: 'string', enum: [...OCR_ENGINES], description: 'The OCR engine: the installed tesseract program, tesseract.js, or auto (the program when installed)' },
  pdfEngine: { type: 'string', enum: [...PDF_ENGINES], description: 'The PDF parser' },
  pdfPassword: { type: 'string', minLength: 1, maxLength: 127, description: 'Opens encrypted PDFs' },
  maxAttachments: { type: ['integer', 'null'], minimum: 0, description: 'Attachments of one e-mail read as child documents (default 100; 0: none)' },
  maxAttachmentBytes: positive('Larger attachments are not read: a resource_limit warning on the e-mail (bytes; default 100 MiB)'),
  maxAttachmentDepth: { type: ['integer', 'null'], minimum: 0, description: 'How deeply attached e-mails are unpacked (default 3; 0: no attachment is read)' },
};

const REPORT: JsonObject = {
  template: { type: 'string', minLength: 1, description: 'A LiquidJS template: one HTML report per document (per row for rows)' },
  name: { type: 'string', minLength: 1, description: 'A template for each report\'s file name' },
  pdf: { description: 'Print each report to PDF too: true, or { pageSize, margin, landscape, header, footer }', anyOf: [{ type: 'boolean' }, { type: 'object' }] },
  locale: { type: 'string', minLength: 1, description: 'Locale of dates and numbers in reports' },
  timezone: { type: 'string', minLength: 1, description: 'Time zone of dates in reports' },
};

const RULES = { type: 'array', items: { type: 'object' }, description: 'Rules: { name, pattern, group?, flags?, all? } or { name, keywords, all? }' } as const;

const LLM_SPEC: JsonObject = {
  mode: { type: 'string', enum: [...LLM_MODES], description: 'What the model does (default extract when a schema is given)' },
  prompt: { type: 'string', description: 'Instructions added to each chunk\'s prompt' },
  reducePrompt: { type: 'string', description: 'Instructions for combining the chunks\' answers' },
  schema: { type: 'object', description: 'extract: a JSON Schema of the fields' },
  labels: { type: 'array', items: { type: 'string' }, description: 'classify: the labels (at least two)' },
  question: { type: 'string', description: 'ask: the question' },
  model: { type: 'string', description: 'The model (default the process\'s)' },
  temperature: { type: ['number', 'null'], minimum: 0, maximum: 2 },
  maxCompletionTokens: positive('Most tokens of one answer'),
  maxCompletionTokensCeiling: positive('Most tokens an answer cut at maxCompletionTokens is asked again with (doubled per repair; default 4 × maxCompletionTokens)'),
  maxRepairs: { type: ['integer', 'null'], minimum: 0, description: 'Repairs asked of an answer that breaks the schema' },
  maxTokens: positive('The job\'s token budget: budget_exceeded past it'),
};

function objectSchema(title: string, properties: JsonObject, required: string[] = []): JsonObject {
  return { $schema: 'http://json-schema.org/draft-07/schema#', title, type: 'object', additionalProperties: false, properties, ...(required.length ? { required } : {}) };
}

export const EXTRACT_OPTIONS_SCHEMA = objectSchema('extract options', {
  ...BASE,
  pagesInResult: { type: 'boolean', description: 'false: pages stay out of the document\'s result and are read page by page (default true)' },
  ...REPORT,
});
export const RULES_OPTIONS_SCHEMA = objectSchema('rules options', { ...BASE, rules: RULES, ...REPORT }, ['rules']);
/** `report`: a template is the point of it; rules are optional (they fill the fields the template shows). */
export const REPORT_OPTIONS_SCHEMA = objectSchema('report options', { ...BASE, rules: RULES, ...REPORT }, ['template']);
export const ROWS_OPTIONS_SCHEMA = objectSchema('rows options', {
  ...BASE,
  maxPages: positive('Data rows a table may have (default 1,000,000)'),
  chunkPages: positive('Rows per task (default 2,000; 200 with a template or a model)'),
  rules: RULES,
  sheet: { type: 'string', minLength: 1, description: 'The workbook\'s sheet, by name (default the first)' },
  columns: {
    type: 'array', minItems: 1, uniqueItems: true, items: { type: 'string', minLength: 1 },
    description: 'The columns fed to each row\'s rules, model and template, by header name (default all); one the table lacks is validation_failed',
  },
  llm: { type: 'object', description: 'Model options asked of each row: the llm pipeline\'s, but reducePrompt' },
  tableCsv: { type: 'boolean', description: 'true: with rules only, each batch also keeps its rows as the CSV records `ream rows` writes (default false)' },
  ...REPORT,
});
export const LLM_OPTIONS_SCHEMA = objectSchema('llm options', {
  ...BASE,
  chunkPages: positive('Pages per chunk the model reads at once (default 20)'),
  ...LLM_SPEC,
  overlapPages: { type: 'integer', minimum: 0, description: 'Pages of context on either side of each chunk (default 1)' },
});
