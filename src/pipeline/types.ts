import type { Analyzer, Fields, TokenUsage } from '../analyzers/port.ts';
import type { ErrorInfo } from '../errors.ts';
import type { AttachmentLimits, DocumentMetadata, PageFailure, PageText, PageWarning, ReadLimits, ReadOptions } from '../formats/types.ts';
import type { JsonObject, JsonValue } from '../json.ts';

/** The stages every document goes through, in order (DESIGN.md §2). */
export const STAGES = ['validate', 'extract', 'chunk', 'analyze', 'index', 'complete'] as const;
export type StageName = (typeof STAGES)[number];

/** See {@link Pipeline.attachments}. */
export const DEFAULT_ATTACHMENT_LIMITS: AttachmentLimits = { maxFiles: 100, maxFileBytes: 100 * 1024 * 1024, maxDepth: 3 };

/**
 * What a pipeline does with a document. The built-in stages are fixed in order; a pipeline
 * plugs in what varies: the limits `validate` enforces, how `chunk` splits, which analyzers
 * run, whether `index` runs, and an optional `complete` hook.
 */
export interface Pipeline {
  readonly name: string;
  /** validate: refuse larger files and longer documents. */
  readonly limits: ReadLimits;
  /** extract: what to read of a document that holds several things (a workbook's sheet), and when PDF pages are read by OCR (options `ocr`, `ocrLanguages`, `ocrDpi`, `ocrEngine`). */
  readonly read?: ReadOptions;
  /**
   * validate: how many of an e-mail's attachments become child documents of the job, how large
   * and how deeply nested (options `maxAttachments`, `maxAttachmentBytes`, `maxAttachmentDepth`).
   * Default {@link DEFAULT_ATTACHMENT_LIMITS}.
   */
  readonly attachments?: AttachmentLimits;
  /** chunk: pages per chunk; chunks of one document run in parallel. */
  readonly chunkPages: number;
  /**
   * Pages of context each chunk's analyzers also see on either side of it (default 0). The
   * chunk still owns only its own pages: text and fields on overlap pages come from their owner.
   */
  readonly overlapPages?: number;
  /** analyze: run on every chunk's pages, results merged per field in page order. */
  readonly analyzers: readonly Analyzer[];
  /**
   * analyze, for tables read as rows whose only analyzer is the rules one (or none): its rule
   * specs (`[]` for none). The format then reads a chunk's rows and runs the rules in the same
   * pool thread (`DocumentFormat.extractPacked`) and hands back the packed checkpoint, so the
   * rows never become objects on the main thread. `analyzers` still holds the rules analyzer,
   * for everything else (a retry of failed rows, the document-wide `reduce`).
   */
  readonly rowRules?: JsonValue;
  /** index: put page text into the search index. */
  readonly index: boolean;
  /**
   * merge: a document with more pages than this keeps its pages and fields in its chunk
   * checkpoints only (`DocumentOutput.pagesOmitted`), read back page by page
   * (`Ream.documentPages`), so that a table of a million rows never sits in memory whole.
   * Default: no limit.
   */
  readonly maxPagesInResult?: number;
  /** complete: called once per finished document (after it is stored), e.g. to notify. */
  readonly onComplete?: (output: DocumentOutput) => void | Promise<void>;
}

/**
 * Builds a pipeline from a job's stored options. Pipelines are rebuilt from (name, options)
 * whenever a task runs — after a restart too — so a factory must be deterministic.
 * Throw `ReamError('validation_failed', …)` for bad options: the job is refused at submit.
 */
export type PipelineFactory = ((options: JsonObject) => Pipeline) & {
  /**
   * The JSON Schema of the options (an object schema): published by `GET /v1/pipelines`, and
   * checked by the registry after the factory has accepted the options. None: any object.
   */
  optionsSchema?: JsonObject;
};

/** One document's final result: what `results()` yields and `ream run --out` writes per line. */
export interface DocumentOutput {
  documentId: string;
  /** The document of the job this one was taken out of (an e-mail's attachment); absent for the files the user gave. */
  parentId?: string;
  /** Where it came from (CLI path or upload name). */
  source: string;
  sha256: string;
  size: number;
  mediaType: string | null;
  status: 'succeeded' | 'partially_succeeded' | 'failed' | 'cancelled';
  pageCount: number | null;
  metadata: DocumentMetadata | null;
  /** Empty when `pagesOmitted`. */
  pages: PageText[];
  /** With `pagesOmitted`, every field found but with no matches listed (they come with their pages). */
  fields: Fields;
  /**
   * Set when the document had more pages than its pipeline lists in a result (a long table):
   * its pages and fields are read page by page with `Ream.documentPages` or
   * `GET /v1/jobs/:id/documents/:documentId/pages`. Failures and warnings are listed here still.
   */
  pagesOmitted?: true;
  /** Pages that could not be read, with why: never silently dropped. */
  failedPages: PageFailure[];
  /** Pages read with a caveat (`needs_ocr`); absent when there are none. Any makes the document `partially_succeeded`. */
  warnings?: PageWarning[];
  error: ErrorInfo | null;
  /** The document-level data of analyzers that have some (an LLM's answer), by analyzer name. */
  analysis?: Record<string, JsonValue>;
  /** Model tokens spent on this document, every chunk and the document step included. */
  usage?: TokenUsage;
}
