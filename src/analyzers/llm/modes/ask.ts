import type { JsonObject, JsonValue } from '../../../json.ts';
import { pagesBlock, systemPrompt } from '../prompts.ts';
import { compileSchema } from '../schema.ts';
import type { LlmSpec } from '../spec.ts';
import { isObject, match, ownedSource, partsList, sourceOf } from './common.ts';
import type { LlmModeHandler, PlacedData } from './types.ts';

const ANSWER: JsonObject = {
  type: 'object',
  properties: {
    answer: { type: ['string', 'null'] },
    pages: { type: 'array', items: { type: 'integer' } },
    quote: { type: 'string' },
  },
  required: ['answer', 'pages', 'quote'],
};

function answered(data: JsonValue): data is JsonObject & { answer: string } {
  return isObject(data) && typeof data.answer === 'string' && data.answer.trim() !== '';
}

/**
 * `ask`: one free question per document. Each chunk answers from its pages (or `null`); when
 * several chunks answer, a reduce call writes one answer from theirs.
 */
export function askMode(spec: LlmSpec & { question: string }): LlmModeHandler {
  const check = compileSchema(ANSWER, 'the answer');
  const task = [
    `Answer this question from the text: ${spec.question}`,
    'Answer {"answer": "<the answer>" or null when the text does not say, "pages": [<pages>], "quote": "<the exact words the answer rests on>"}.',
    spec.prompt ?? '',
  ].join('\n');
  const reduceCheck = compileSchema({ type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] }, 'the answer');
  const first = (parts: readonly PlacedData[]): JsonValue => parts.map((part) => part.data).find(answered) ?? { answer: null, pages: [], quote: '' };
  return {
    map: (pages) => ({
      name: 'answer',
      messages: [{ role: 'system', content: systemPrompt(task, true) }, { role: 'user', content: pagesBlock(pages) }],
      schema: ANSWER,
      check,
    }),
    chunkData(raw, scope) {
      if (!answered(raw)) return { answer: null, pages: [], quote: '' };
      const source = ownedSource({ pages: raw.pages ?? [], quote: raw.quote ?? '' }, scope);
      if (!source) return { answer: null, pages: [], quote: '' }; // answered from overlap only: the owner answers
      return { answer: raw.answer, pages: source.pages, quote: source.quote };
    },
    combine: first,
    reduce(chunks) {
      const withAnswers = chunks.filter((chunk) => answered(chunk.data));
      if (withAnswers.length < 2) return undefined;
      const reduceTask = [
        `Partial answers to the question "${spec.question}" were given from consecutive parts of one document. Combine them into one answer.`,
        'Answer {"answer": "<the answer>"}.',
        spec.reducePrompt ?? '',
      ].join('\n');
      const list = partsList(withAnswers.map((chunk) => ({ ...chunk, text: (chunk.data as { answer: string }).answer })));
      return {
        name: 'answer',
        messages: [{ role: 'system', content: systemPrompt(reduceTask, true) }, { role: 'user', content: list }],
        schema: { type: 'object', properties: { answer: { type: 'string' } }, required: ['answer'] },
        check: reduceCheck,
      };
    },
    reduced(answer, chunks) {
      const sources = chunks.map((chunk) => chunk.data).filter(answered).map((data) => sourceOf(data));
      const pages = [...new Set(sources.flatMap((source) => source?.pages ?? []))].sort((a, b) => a - b);
      return { answer: isObject(answer) && typeof answer.answer === 'string' ? answer.answer : null, pages, quote: sources[0]?.quote ?? '' };
    },
    finalize: (data) => data,
    fields(data, firstPage) {
      return { answer: answered(data) ? [match(data.answer, sourceOf(data), firstPage)] : [] };
    },
  };
}
