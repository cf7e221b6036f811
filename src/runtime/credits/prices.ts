import { ReamError } from '../../errors.ts';

/**
 * What work costs, in credits. Every key is optional and 0 when absent. A job's charge is the sum
 * over what it used, rounded up once to a whole credit.
 */
export interface CreditPrices {
  /** Per page read (text layer or OCR). */
  page?: number;
  /** Per page read by OCR, on top of `page`. */
  ocrPage?: number;
  /** Per 1,000 prompt tokens of model calls. */
  llmPrompt1kTokens?: number;
  /** Per 1,000 completion tokens of model calls. */
  llmCompletion1kTokens?: number;
  /** Per rendered PDF report (`--template … --pdf`): each PDF artifact a job made. */
  renderedPdf?: number;
}

export const PRICE_KEYS = ['page', 'ocrPage', 'llmPrompt1kTokens', 'llmCompletion1kTokens', 'renderedPdf'] as const satisfies readonly (keyof CreditPrices)[];

/** What a job used, as the ledger charges it. */
export interface CreditUsage {
  pages: number;
  ocrPages: number;
  promptTokens: number;
  completionTokens: number;
  renderedPdfs: number;
}

export const NO_USAGE: CreditUsage = { pages: 0, ocrPages: 0, promptTokens: 0, completionTokens: 0, renderedPdfs: 0 };

/** The charge for `usage`, in whole credits (rounded up: a job that used anything priced pays at least 1). */
export function priceOf(usage: CreditUsage, prices: CreditPrices): number {
  const exact = usage.pages * (prices.page ?? 0)
    + usage.ocrPages * (prices.ocrPage ?? 0)
    + (usage.promptTokens / 1000) * (prices.llmPrompt1kTokens ?? 0)
    + (usage.completionTokens / 1000) * (prices.llmCompletion1kTokens ?? 0)
    + usage.renderedPdfs * (prices.renderedPdf ?? 0);
  // A hair of tolerance: 0.1 + 0.2 credits is 1 credit, not 2 from floating-point dust.
  return Math.ceil(exact - 1e-9);
}

/** Checks a price table from a flag or file: known keys only, finite numbers ≥ 0. */
export function checkPrices(value: unknown, source = 'credit prices'): CreditPrices {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw ReamError.nonRetryable('validation_failed', `${source} must be a JSON object with keys ${PRICE_KEYS.join(', ')}`);
  }
  const prices: CreditPrices = {};
  for (const [key, price] of Object.entries(value)) {
    if (!(PRICE_KEYS as readonly string[]).includes(key)) {
      throw ReamError.nonRetryable('validation_failed', `${source}: unknown price "${key}" (known: ${PRICE_KEYS.join(', ')})`);
    }
    if (typeof price !== 'number' || !Number.isFinite(price) || price < 0) {
      throw ReamError.nonRetryable('validation_failed', `${source}: ${key} must be a number ≥ 0`);
    }
    prices[key as keyof CreditPrices] = price;
  }
  return prices;
}
