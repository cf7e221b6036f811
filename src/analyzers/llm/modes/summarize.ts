import type { JsonObject, JsonValue } from '../../../json.ts';
import { pagesBlock, systemPrompt } from '../prompts.ts';
import { compileSchema } from '../schema.ts';
import type { LlmSpec } from '../spec.ts';
import { isObject, partsList } from './common.ts';
import type { LlmModeHandler, PlacedData } from './types.ts';

const ANSWER: JsonObject = { type: 'object', properties: { summary: { type: 'string' } }, required: ['summary'] };

function summaryOf(data: JsonValue): string {
  return isObject(data) && typeof data.summary === 'string' ? data.summary : '';
}

/**
 * `summarize`: a summary per chunk (map), then one summary of the chunk summaries (reduce) for
 * a document of several chunks — a 500-page book is summarised from its chunks' summaries.
 */
export function summarizeMode(spec: LlmSpec): LlmModeHandler {
  const check = compileSchema(ANSWER, 'the summary answer');
  const mapTask = `Summarise this part of a document. Answer {"summary": "<the summary>"}.\n${spec.prompt ?? ''}`;
  const reduceTask = [
    'You are given summaries of consecutive parts of one document, in order. Write one summary of the whole document from them.',
    'Answer {"summary": "<the summary>"}.',
    spec.reducePrompt ?? spec.prompt ?? '',
  ].join('\n');
  const placed = (parts: readonly PlacedData[]): JsonValue => {
    const summary = parts.map((part) => summaryOf(part.data)).filter((s) => s !== '').join('\n\n');
    // No part (pages without text): no page range to name.
    if (parts.length === 0) return { summary };
    return { summary, firstPage: Math.min(...parts.map((part) => part.firstPage)), lastPage: Math.max(...parts.map((part) => part.lastPage)) };
  };
  return {
    map: (pages) => ({
      name: 'summary',
      messages: [{ role: 'system', content: systemPrompt(mapTask, true) }, { role: 'user', content: pagesBlock(pages) }],
      schema: ANSWER,
      check,
    }),
    chunkData(answer, scope) {
      const owned = scope.pages.map((page) => page.page).filter(scope.owns);
      return { summary: summaryOf(answer), firstPage: Math.min(...owned), lastPage: Math.max(...owned) };
    },
    combine: placed,
    reduce(chunks) {
      // Chunks without text have no summary: nothing of theirs to combine.
      const summarised = chunks.filter((chunk) => summaryOf(chunk.data) !== '');
      if (summarised.length < 2) return undefined;
      const list = partsList(summarised.map((chunk) => ({ ...chunk, text: summaryOf(chunk.data) })));
      return {
        name: 'summary',
        messages: [{ role: 'system', content: systemPrompt(reduceTask, true) }, { role: 'user', content: list }],
        schema: ANSWER,
        check,
      };
    },
    reduced: (answer, chunks) => ({ ...(placed(chunks) as JsonObject), summary: summaryOf(answer) }),
    finalize: (data) => data,
    fields(data, firstPage) {
      const summary = summaryOf(data);
      const page = isObject(data) && typeof data.firstPage === 'number' ? data.firstPage : firstPage;
      return { summary: summary === '' ? [] : [{ value: summary, page }] };
    },
  };
}
