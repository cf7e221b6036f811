import type { Analyzer, AnalyzeContext, ChunkAnalysis, Fields, TokenUsage } from '../analyzers/port.ts';
import { addUsage } from '../analyzers/store/port.ts';
import { ReamError, type ErrorCode } from '../errors.ts';
import type { PageFailure, PageText, PageWarning } from '../formats/types.ts';
import type { JsonValue } from '../json.ts';
import type { ChunkOutput } from '../pipeline/merge.ts';

/** What a chunk's analyzers found: the fields, and each analyzer's own data and usage for its checkpoint. */
export interface ChunkAnalyses {
  fields: Fields;
  analyses: NonNullable<ChunkOutput['analyses']>;
  /** Pages an analyzer could not analyse while it did the others (see `AnalysisResult.failures`). */
  failures: PageFailure[];
}

/**
 * What a model says about the content it was given, not about itself: the same chunk asked again
 * would fail again. Such a failure fails the chunk's analysis, never its text, which was read.
 */
const CONTENT_FAILURES: readonly string[] = ['llm_invalid_output', 'llm_refused', 'llm_context_too_long'];

/**
 * A failure no later attempt of the chunk would cure: one about the content, or the job's token
 * budget spent (`budget_exceeded`, not retryable: the job makes no more model calls). Either fails
 * the chunk's analysis, never its text, which was read.
 */
function isFinalFailure(error: ReamError): boolean {
  return CONTENT_FAILURES.includes(error.code) || (error.code === 'budget_exceeded' && !error.retryable);
}

/**
 * A failure of an analyzer that leaves the chunk's pages read (with its message), or undefined for
 * one that fails the chunk (retried by the queue). On the chunk's last attempt a failure another
 * attempt might have cured (the provider down) is final: the pages keep the text that was read,
 * and a retry of the job asks again about them only.
 */
function analysisFailure(error: unknown, context: AnalyzeContext): { code: ErrorCode; message: string } | undefined {
  if (!(error instanceof ReamError) || context.signal.aborted) return undefined;
  if (isFinalFailure(error)) return error;
  if (error.retryable && context.finalAttempt !== undefined) return { code: error.code, message: `${error.message} (after ${context.finalAttempt} attempts)` };
  return undefined;
}

/** Runs a chunk's pages through every analyzer in pipeline order; later fields win on a name clash. */
export async function analyzeChunk(analyzers: readonly Analyzer[], pages: readonly PageText[], context: AnalyzeContext): Promise<ChunkAnalyses> {
  // Without a prototype: a field or analyzer named `constructor` or `__proto__` is a name like any other.
  const fields: Fields = Object.create(null) as Fields;
  const analyses: ChunkAnalyses['analyses'] = Object.create(null) as ChunkAnalyses['analyses'];
  const failures: PageFailure[] = [];
  const chunk = context.chunk;
  const owned = chunk ? pages.filter((page) => page.page > chunk.from && page.page <= chunk.to) : pages;
  for (const analyzer of analyzers) {
    if (analyzer.analyzeChunk) {
      let result;
      try {
        result = await analyzer.analyzeChunk(pages, context);
      } catch (error) {
        const failure = analysisFailure(error, context);
        if (!failure) throw error;
        // The chunk's pages keep their text and fail their analysis: a retry of the job asks again for them only.
        for (const { page } of owned) failures.push({ page, code: failure.code, message: `the ${analyzer.name} analysis of page ${page} failed: ${failure.message}` });
        continue;
      }
      Object.assign(fields, result.fields);
      for (const failure of result.failures ?? []) failures.push(failure);
      analyses[analyzer.name] = { ...(result.data === undefined ? {} : { data: result.data }), ...(result.usage ? { usage: result.usage } : {}) };
    } else {
      Object.assign(fields, await analyzer.analyze(pages, context));
    }
  }
  return { fields, analyses, failures };
}

/** A document's analysis once its chunks are merged: fields, each analyzer's document data, tokens used. */
export interface DocumentAnalysis {
  fields: Fields;
  analysis: Record<string, JsonValue>;
  usage: TokenUsage;
  /** What the document-level steps could not do (see `AnalysisResult.warnings`). */
  warnings: PageWarning[];
}

/**
 * The document-level steps: each analyzer's synchronous `reduce`, then its async `finish` (an
 * LLM's reduce prompt over the chunks' answers). A repeated merge calls `finish` again: analyzers
 * answer the repeat from their cache.
 */
export async function analyzeDocument(
  analyzers: readonly Analyzer[],
  merged: { fields: Fields; analyses: Record<string, ChunkAnalysis[]>; usage: TokenUsage },
  context: AnalyzeContext,
): Promise<DocumentAnalysis> {
  let fields = merged.fields;
  for (const analyzer of analyzers) fields = analyzer.reduce?.(fields) ?? fields;
  const analysis: Record<string, JsonValue> = Object.create(null) as Record<string, JsonValue>;
  const warnings: PageWarning[] = [];
  let usage = merged.usage;
  for (const analyzer of analyzers) {
    if (!analyzer.finish) continue;
    const result = await analyzer.finish(merged.analyses[analyzer.name] ?? [], fields, context);
    Object.assign(fields, result.fields);
    if (result.data !== undefined) analysis[analyzer.name] = result.data;
    if (result.usage) usage = addUsage(usage, result.usage);
    warnings.push(...(result.warnings ?? []));
  }
  return { fields, analysis, usage, warnings };
}
