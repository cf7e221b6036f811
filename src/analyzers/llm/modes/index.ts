import type { JsonObject } from '../../../json.ts';
import type { LlmSpec } from '../spec.ts';
import { askMode } from './ask.ts';
import { classifyMode } from './classify.ts';
import { extractMode } from './extract.ts';
import { summarizeMode } from './summarize.ts';
import type { LlmModeHandler } from './types.ts';

export type { LlmModeHandler, ModelRequest, PartScope, PlacedData } from './types.ts';

/** The handler of a checked spec (`parseLlmSpec` guarantees what each mode needs). */
export function modeHandler(spec: LlmSpec): LlmModeHandler {
  switch (spec.mode) {
    case 'extract':
      return extractMode({ ...spec, schema: spec.schema as JsonObject });
    case 'summarize':
      return summarizeMode(spec);
    case 'classify':
      return classifyMode({ ...spec, labels: spec.labels ?? [] });
    case 'ask':
      return askMode({ ...spec, question: spec.question ?? '' });
  }
}

/**
 * The fields a spec's answers fill, known before any call: a table written from them has the
 * same columns whether or not a row's call succeeded.
 */
export function llmFieldNames(spec: LlmSpec): string[] {
  switch (spec.mode) {
    case 'extract':
      return Object.keys((spec.schema as JsonObject).properties as JsonObject);
    case 'summarize':
      return ['summary'];
    case 'classify':
      return ['label'];
    case 'ask':
      return ['answer'];
  }
}
