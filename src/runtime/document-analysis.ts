import type { Analyzer, AnalyzeContext, ChunkAnalysis, Fields, TokenUsage } from '../analyzers/port.ts';
import { addUsage } from '../analyzers/store/port.ts';
import type { PageFailure, PageText } from '../formats/types.ts';
import type { JsonValue } from '../json.ts';
import type { ChunkOutput } from '../pipeline/merge.ts';

/** What a chunk's analyzers found: the fields, and each analyzer's own data and usage for its checkpoint. */
export interface ChunkAnalyses {
  fields: Fields;
  analyses: NonNullable<ChunkOutput['analyses']>;
  /** Pages an analyzer could not analyse while it did the others (see `AnalysisResult.failures`). */
  failures: PageFailure[];
}

/** Runs a chunk's pages through every analyzer in pipeline order; later fields win on a name clash. */
export async function analyzeChunk(analyzers: readonly Analyzer[], pages: readonly PageText[], context: AnalyzeContext): Promise<ChunkAnalyses> {
  const fields: Fields = {};
  const analyses: ChunkAnalyses['analyses'] = {};
  const failures: PageFailure[] = [];
  for (const analyzer of analyzers) {
    if (analyzer.analyzeChunk) {
      const result = await analyzer.analyzeChunk(pages, context);
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
  const analysis: Record<string, JsonValue> = {};
  let usage = merged.usage;
  for (const analyzer of analyzers) {
    if (!analyzer.finish) continue;
    const result = await analyzer.finish(merged.analyses[analyzer.name] ?? [], fields, context);
    Object.assign(fields, result.fields);
    if (result.data !== undefined) analysis[analyzer.name] = result.data;
    if (result.usage) usage = addUsage(usage, result.usage);
  }
  return { fields, analysis, usage };
}
