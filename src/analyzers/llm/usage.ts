import { ReamError } from '../../errors.ts';
import type { ModelUsage, TokenUsage } from '../store/port.ts';

/** USD per million tokens, by model. */
export type PriceTable = Record<string, { prompt: number; completion: number }>;

/**
 * A price table from JSON text (`REAM_LLM_PRICES`): `{"<model>": {"prompt": 0.15, "completion":
 * 0.6}}`, USD per million tokens, each price a number ≥ 0. Anything else is `validation_failed`
 * naming `source`.
 */
export function parsePriceTable(text: string, source: string): PriceTable {
  const invalid = (why: string): ReamError => ReamError.nonRetryable('validation_failed', `${source} ${why}: {"<model>": {"prompt": <USD per million tokens>, "completion": <USD per million tokens>}}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid('is not JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw invalid('must be a JSON object');
  const table: PriceTable = {};
  for (const [model, price] of Object.entries(parsed as Record<string, unknown>)) {
    const { prompt, completion } = (price ?? {}) as { prompt?: unknown; completion?: unknown };
    const valid = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
    if (!valid(prompt) || !valid(completion)) throw invalid(`gives model "${model}" no valid prompt and completion prices`);
    table[model] = { prompt, completion };
  }
  return table;
}

/** What usage cost by a price table; `undefined` when a model used has no price (a partial sum would mislead). */
export function costOf(usage: readonly ModelUsage[], prices: PriceTable | undefined): number | undefined {
  if (!prices) return undefined;
  let total = 0;
  for (const entry of usage) {
    if (entry.promptTokens + entry.completionTokens === 0) continue;
    const price = prices[entry.model];
    if (!price) return undefined;
    total += (entry.promptTokens * price.prompt + entry.completionTokens * price.completion) / 1_000_000;
  }
  return Math.round(total * 1e6) / 1e6;
}

export function totalTokens(usage: TokenUsage): number {
  return usage.promptTokens + usage.completionTokens;
}
