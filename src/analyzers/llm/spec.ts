import { ReamError } from '../../errors.ts';
import type { JsonObject, JsonValue } from '../../json.ts';

export const LLM_MODES = ['extract', 'summarize', 'classify', 'ask'] as const;
export type LlmMode = (typeof LLM_MODES)[number];

/**
 * What to ask of the model, as stored with a job (JSON, no secret). `extract` needs `schema`,
 * `classify` needs `labels`, `ask` needs `question`; `prompt` adds instructions to the per-chunk
 * (map) step and `reducePrompt` to the document (reduce) step.
 */
export interface LlmSpec {
  mode: LlmMode;
  prompt?: string;
  reducePrompt?: string;
  schema?: JsonObject;
  labels?: string[];
  question?: string;
  /** Overrides the provider's default model. */
  model?: string;
  /** Default 0: the same document should give the same answer. */
  temperature?: number;
  /** Most tokens per answer (`max_tokens`); also what the budget sets aside per call. */
  maxCompletionTokens?: number;
  /**
   * With `maxCompletionTokens`: the most an answer cut at its limit (`finish_reason: length`) is
   * asked again with. Each repair after a cut doubles the limit, up to this. Default 4 ×
   * `maxCompletionTokens`; equal to it, the limit is never raised.
   */
  maxCompletionTokensCeiling?: number;
  /** Corrected answers asked for after an invalid one, before `llm_invalid_output`. Default 2. */
  maxRepairs?: number;
  /** Token budget of the job (prompt + completion, every call): `budget_exceeded` beyond it. */
  maxTokens?: number;
}

export const SPEC_KEYS = ['mode', 'prompt', 'reducePrompt', 'schema', 'labels', 'question', 'model', 'temperature', 'maxCompletionTokens', 'maxCompletionTokensCeiling', 'maxRepairs', 'maxTokens'] as const;

function invalid(message: string): ReamError {
  return ReamError.nonRetryable('validation_failed', message);
}

function text(options: JsonObject, key: string, max = 20_000): string | undefined {
  const value = options[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.trim() === '' || value.length > max) throw invalid(`option "${key}" must be a non-empty string of at most ${max} characters`);
  return value;
}

function count(options: JsonObject, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const value = options[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(`option "${key}" must be an integer ≥ ${min}${max === Number.MAX_SAFE_INTEGER ? '' : ` and ≤ ${max}`}`);
  }
  return value;
}

/** Repairs asked for per call at most: each is a whole call's cost, and a model that cannot answer after a few rarely does after more. */
export const MAX_REPAIRS = 5;

/** Reads and checks a spec from job options (or library options): `validation_failed` when wrong. */
export function parseLlmSpec(options: JsonObject): LlmSpec {
  const mode = options.mode ?? (options.schema !== undefined ? 'extract' : undefined);
  if (typeof mode !== 'string' || !(LLM_MODES as readonly string[]).includes(mode)) {
    throw invalid(`option "mode" must be one of ${LLM_MODES.join(', ')} (or give "schema" for extract)`);
  }
  const spec: LlmSpec = { mode: mode as LlmMode };
  const put = <K extends keyof LlmSpec>(key: K, value: LlmSpec[K] | undefined): void => {
    if (value !== undefined) spec[key] = value;
  };
  put('prompt', text(options, 'prompt'));
  put('reducePrompt', text(options, 'reducePrompt'));
  put('question', text(options, 'question', 4_000));
  put('model', text(options, 'model', 200));
  put('maxCompletionTokens', count(options, 'maxCompletionTokens', 1));
  put('maxCompletionTokensCeiling', count(options, 'maxCompletionTokensCeiling', spec.maxCompletionTokens ?? 1));
  if (spec.maxCompletionTokensCeiling !== undefined && spec.maxCompletionTokens === undefined) {
    throw invalid('option "maxCompletionTokensCeiling" needs option "maxCompletionTokens" (the limit it raises)');
  }
  put('maxRepairs', count(options, 'maxRepairs', 0, MAX_REPAIRS));
  put('maxTokens', count(options, 'maxTokens', 1));
  const temperature = options.temperature;
  if (temperature !== undefined && temperature !== null) {
    if (typeof temperature !== 'number' || temperature < 0 || temperature > 2) throw invalid('option "temperature" must be a number from 0 to 2');
    spec.temperature = temperature;
  }
  const schema = options.schema;
  if (schema !== undefined && schema !== null) {
    if (typeof schema !== 'object' || Array.isArray(schema)) throw invalid('option "schema" must be a JSON Schema object');
    if (schema.type !== 'object' || typeof schema.properties !== 'object' || schema.properties === null) {
      throw invalid('option "schema" must describe an object: { "type": "object", "properties": { … } }');
    }
    spec.schema = schema;
  }
  const labels = options.labels;
  if (labels !== undefined && labels !== null) spec.labels = parseLabels(labels);
  if (spec.mode === 'extract' && !spec.schema) throw invalid('mode extract needs option "schema" (a JSON Schema of the fields)');
  if (spec.mode === 'classify' && !spec.labels) throw invalid('mode classify needs option "labels" (at least two)');
  if (spec.mode === 'ask' && !spec.question) throw invalid('mode ask needs option "question"');
  return spec;
}

function parseLabels(value: JsonValue): string[] {
  if (!Array.isArray(value) || value.length < 2 || value.length > 200) throw invalid('option "labels" must be an array of 2 to 200 strings');
  const labels = value.map((label) => {
    if (typeof label !== 'string' || label.trim() === '' || label.length > 200) throw invalid('every label must be a non-empty string of at most 200 characters');
    return label;
  });
  if (new Set(labels).size !== labels.length) throw invalid('labels must be different from each other');
  return labels;
}
