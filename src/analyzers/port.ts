import type { PageText } from '../formats/types.ts';
import type { JsonValue } from '../json.ts';

/** Where a field's value was found. */
export interface FieldMatch {
  value: string;
  /** 1-based page number. */
  page: number;
}

export type Fields = Record<string, FieldMatch[]>;

export interface AnalyzeContext {
  signal: AbortSignal;
  documentId: string;
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
   * Optional: called once per document with this analyzer's fields merged from every chunk in
   * page order, to apply document-wide rules (e.g. keep only the first match of a field).
   */
  reduce?(merged: Fields): Fields;
}
