import type { BlobStore } from '../blobs/port.ts';
import type { PageFailure, PageText, PageWarning } from '../formats/types.ts';
import type { JsonValue } from '../json.ts';
import type { AnalysisStore, TokenUsage } from './store/port.ts';

export type { AnalysisStore, TokenUsage } from './store/port.ts';

/** Where a field's value was found. */
export interface FieldMatch {
  value: string;
  /** 1-based page number (the first one when the value came from several). */
  page: number;
  /** Every 1-based page the value came from, when an analyzer knows more than one (LLM fields). */
  pages?: number[];
  /** The passage of the document the value was read from, verbatim. */
  quote?: string;
}

export type Fields = Record<string, FieldMatch[]>;

/** The page range a chunk owns: `[from, to)`, 0-based. Pages outside it are overlap context. */
export interface ChunkScope {
  index: number;
  from: number;
  to: number;
}

export interface AnalyzeContext {
  signal: AbortSignal;
  documentId: string;
  /** The job the chunk belongs to (absent when an analyzer is called directly). */
  jobId?: string;
  tenantId?: string;
  /** sha256 of the document's bytes: the content part of a response cache key. */
  sha256?: string;
  /** The chunk being analysed; `pages` may hold overlap pages on either side of it. */
  chunk?: ChunkScope;
  /** Response cache and usage ledger of the deployment (absent: the analyzer keeps its own in memory). */
  store?: AnalysisStore;
  /** Where the document came from (a CLI path, an upload's name), for what an analyzer writes. */
  source?: string;
  /** Where an analyzer that makes files (rendered reports) puts their bytes: the deployment's blob store. */
  blobs?: BlobStore;
  /**
   * Set on the chunk task's last attempt (its number): a retryable failure is final now, and an
   * analyzer that fails pages alone (a table's rows, `perPage`) fails them as pages, their text kept.
   * Set on the merge task's last attempt too (`finish`).
   */
  finalAttempt?: number;
  /**
   * Stores a file an analyzer makes (a rendered report) in `blobs` as one of the job's files,
   * within its tenant's storage quota, checked file by file: `quota_exceeded` (not retried) when
   * it does not fit. Absent (an analyzer called directly): the analyzer puts it in `blobs` itself.
   */
  storeFile?(bytes: Buffer): Promise<{ sha256: string; size: number }>;
}

/** What {@link Analyzer.analyzeChunk} and {@link Analyzer.finish} return. */
export interface AnalysisResult {
  fields: Fields;
  /** The analyzer's own JSON answer (an LLM's validated object, summary, label, …). */
  data?: JsonValue;
  /** Tokens spent making it (calls answered from the cache count as cached, 0 tokens). */
  usage?: TokenUsage;
  /**
   * Pages whose analysis failed for good while the chunk's other pages were analysed (a table's
   * rows are items of their own: one row's refused answer must not fail its 199 neighbours).
   * They become failed pages of the document; their text is kept.
   */
  failures?: PageFailure[];
  /**
   * Document level (`finish`): what the document-level step could not do while it still gave an
   * answer (an LLM's reduce prompt refused: the chunks' answers combined as they are). They make
   * the document a partial success.
   */
  warnings?: PageWarning[];
}

/** One chunk's stored analysis, handed to {@link Analyzer.finish} in page order. */
export interface ChunkAnalysis extends ChunkScope {
  /** `undefined` when the chunk failed: its pages are listed as failed pages anyway. */
  data?: JsonValue;
}

/**
 * The analyze stage: turns page text into named fields. Analyzers run per chunk on the event
 * loop (they are cheap, or I/O-bound like LLM calls) and must be pure functions of their input:
 * a repeated chunk gives the same fields. Throw `ReamError('analyzer_failed', …)` on failure.
 */
export interface Analyzer {
  readonly name: string;
  /** JSON-serialisable description, stored with results and part of the job's options. */
  readonly config: JsonValue;
  analyze(pages: readonly PageText[], context: AnalyzeContext): Promise<Fields>;
  /**
   * Optional, used instead of `analyze` by the engine when present: fields plus the analyzer's
   * own data and usage, stored in the chunk's checkpoint and handed to `finish` per document.
   */
  analyzeChunk?(pages: readonly PageText[], context: AnalyzeContext): Promise<AnalysisResult>;
  /**
   * Optional: what `analyze` of each page alone would give, all pages' matches together in page
   * order (see `perPage`), in one synchronous call: for an analyzer that waits on nothing, a
   * promise and a result object per page (per table row) cost more than the analysis.
   */
  analyzeEachPage?(pages: readonly PageText[], context: AnalyzeContext): Fields;
  /**
   * Optional: called once per document with this analyzer's fields merged from every chunk in
   * page order, to apply document-wide rules (e.g. keep only the first match of a field).
   */
  reduce?(merged: Fields): Fields;
  /**
   * Optional, async document-level step (after `reduce`): combines the chunks' data into the
   * document's (an LLM's reduce prompt over chunk summaries). Must be idempotent: a repeated
   * merge task calls it again (an LLM analyzer answers the repeat from its cache).
   */
  finish?(chunks: readonly ChunkAnalysis[], merged: Fields, context: AnalyzeContext): Promise<AnalysisResult>;
}
