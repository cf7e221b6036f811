import type { JsonObject, JsonValue } from '../../../json.ts';
import { pagesBlock, systemPrompt } from '../prompts.ts';
import { compileSchema } from '../schema.ts';
import type { LlmSpec } from '../spec.ts';
import { isObject, match, ownedSource, sourceOf } from './common.ts';
import type { LlmModeHandler, PlacedData } from './types.ts';

/**
 * `classify`: one of the given labels per chunk, with a confidence and the passage that decided
 * it; the document's label is the one with the most weight (owned pages × confidence) over its
 * chunks, so a long document is not decided by its first chunk alone. No reduce call.
 */
export function classifyMode(spec: LlmSpec & { labels: string[] }): LlmModeHandler {
  const answer: JsonObject = {
    type: 'object',
    properties: {
      label: { type: 'string', enum: spec.labels },
      confidence: { type: 'number', minimum: 0, maximum: 1 },
      pages: { type: 'array', items: { type: 'integer' } },
      quote: { type: 'string' },
    },
    required: ['label', 'pages', 'quote'],
  };
  const check = compileSchema(answer, 'the label answer');
  const task = [
    `Classify the document text with exactly one of these labels: ${JSON.stringify(spec.labels)}.`,
    'Answer {"label": "<label>", "confidence": <0 to 1>, "pages": [<pages that decide it>], "quote": "<the exact words that decide it>"}.',
    spec.prompt ?? '',
  ].join('\n');
  const vote = (parts: readonly PlacedData[]): JsonValue => {
    const weights = new Map<string, number>();
    let best: { label: string; data: JsonObject; weight: number } | undefined;
    for (const part of parts) {
      if (!isObject(part.data) || typeof part.data.label !== 'string') continue;
      const confidence = typeof part.data.confidence === 'number' ? part.data.confidence : 1;
      const weight = (part.lastPage - part.firstPage + 1) * confidence;
      weights.set(part.data.label, (weights.get(part.data.label) ?? 0) + weight);
      if (!best || weight > best.weight) best = { label: part.data.label, data: part.data, weight };
    }
    // Ties go to the label of the earliest chunk (Map keeps insertion order).
    let label: string | undefined;
    for (const [candidate, weight] of weights) if (label === undefined || weight > (weights.get(label) ?? 0)) label = candidate;
    if (label === undefined) return { label: null };
    const strongest = parts.map((part) => part.data).find((data) => isObject(data) && data.label === label) as JsonObject;
    const total = [...weights.values()].reduce((a, b) => a + b, 0);
    return { label, confidence: total > 0 ? (weights.get(label) ?? 0) / total : 0, pages: strongest.pages ?? [], quote: strongest.quote ?? '', votes: Object.fromEntries(weights) };
  };
  return {
    map: (pages) => ({
      name: 'label',
      messages: [{ role: 'system', content: systemPrompt(task, true) }, { role: 'user', content: pagesBlock(pages) }],
      schema: answer,
      check,
    }),
    chunkData(raw, scope) {
      const data = isObject(raw) ? raw : {};
      const source = ownedSource({ pages: data.pages ?? [], quote: data.quote ?? '' }, scope)
        ?? ownedSource({ pages: [], quote: '' }, scope); // a label always counts for its chunk
      return { label: data.label ?? null, confidence: typeof data.confidence === 'number' ? data.confidence : 1, pages: source?.pages ?? [], quote: source?.quote ?? '' };
    },
    combine: vote,
    reduce: () => undefined,
    reduced: (_answer, chunks) => vote(chunks),
    finalize: (data) => data,
    fields(data, firstPage) {
      if (!isObject(data) || typeof data.label !== 'string') return { label: [] };
      return { label: [match(data.label, sourceOf(data), firstPage)] };
    },
  };
}
