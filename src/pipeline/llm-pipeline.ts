import { createLlmAnalyzer } from '../analyzers/llm/analyzer.ts';
import type { LlmClient } from '../analyzers/llm/llm-client.ts';
import { SPEC_KEYS } from '../analyzers/llm/spec.ts';
import { ReamError } from '../errors.ts';
import type { JsonObject } from '../json.ts';
import { BASE_OPTIONS, baseOptions, positiveInteger, refuseUnknown } from './builtin.ts';
import { LLM_OPTIONS_SCHEMA } from './option-schemas.ts';
import type { Pipeline, PipelineFactory } from './types.ts';

/** Pages per chunk of the `llm` pipeline: a prompt of ~10k tokens for typical pages. */
export const LLM_CHUNK_PAGES = 20;
/** Pages of context on either side of a chunk. */
export const LLM_OVERLAP_PAGES = 1;

/**
 * `llm`: `extract` plus the LLM analyzer (options: mode, schema, prompt, labels, question, model,
 * … see `LlmSpec`; `overlapPages`, default 1; `chunkPages`, default 20). The provider — and its
 * API key — is the process's (`REAM_LLM_*` or `createReam({ llm })`), never a job option.
 */
export function llmPipeline(client: LlmClient | undefined): PipelineFactory {
  const factory = (options: JsonObject): Pipeline => {
    refuseUnknown('llm', options, [...BASE_OPTIONS, ...SPEC_KEYS, 'overlapPages']);
    if (!client) {
      throw ReamError.nonRetryable('validation_failed', 'the llm pipeline needs a model provider: set REAM_LLM_MODEL (and REAM_LLM_BASE_URL, REAM_LLM_API_KEY) or createReam({ llm })');
    }
    const spec: JsonObject = {};
    for (const key of SPEC_KEYS) if (options[key] !== undefined) spec[key] = options[key];
    const overlap = options.overlapPages;
    if (overlap !== undefined && (typeof overlap !== 'number' || !Number.isSafeInteger(overlap) || overlap < 0)) {
      throw ReamError.nonRetryable('validation_failed', 'option "overlapPages" must be an integer ≥ 0');
    }
    return {
      name: 'llm',
      analyzers: [createLlmAnalyzer({ ...(spec as object), client })],
      ...baseOptions(options),
      chunkPages: positiveInteger(options, 'chunkPages', LLM_CHUNK_PAGES),
      overlapPages: overlap ?? LLM_OVERLAP_PAGES,
    };
  };
  return Object.assign(factory, { optionsSchema: LLM_OPTIONS_SCHEMA });
}
