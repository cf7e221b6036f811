import type { ModelUsage, TokenUsage } from '../store/port.ts';

/** USD per million tokens, by model. */
export type PriceTable = Record<string, { prompt: number; completion: number }>;

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
