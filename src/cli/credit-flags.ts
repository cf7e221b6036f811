import { readFileSync } from 'node:fs';
import { InvalidArgumentError, type Command } from 'commander';
import { ReamError } from '../errors.ts';
import { checkPrices, type CreditPrices, type CreditSettings } from '../runtime/ream.ts';

export interface CreditFlags {
  creditPrices?: string;
  pricePage?: number;
  priceOcrPage?: number;
  priceLlmPrompt1k?: number;
  priceLlmCompletion1k?: number;
  priceRenderedPdf?: number;
}

function price(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of credits ≥ 0');
  return n;
}

/**
 * `--credit-prices <file>` and `--price-*` (serve, worker): the price table jobs are charged by.
 * Give every process of a deployment the same: a job is settled by whichever process ends it.
 */
export function addCreditFlags(command: Command): Command {
  return command
    .option('--credit-prices <file>', 'JSON price table {"page", "ocrPage", "llmPrompt1kTokens", "llmCompletion1kTokens", "renderedPdf"}: turns credits on')
    .option('--price-page <credits>', 'credits per page read (turns credits on; over the file\'s value)', price)
    .option('--price-ocr-page <credits>', 'credits per page read by OCR, on top of --price-page', price)
    .option('--price-llm-prompt-1k <credits>', 'credits per 1,000 prompt tokens', price)
    .option('--price-llm-completion-1k <credits>', 'credits per 1,000 completion tokens', price)
    .option('--price-rendered-pdf <credits>', 'credits per rendered PDF', price);
}

/** The credit settings the flags ask for, or undefined (credits off). */
export function creditsFromFlags(flags: CreditFlags): CreditSettings | undefined {
  let prices: CreditPrices | undefined;
  if (flags.creditPrices !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(flags.creditPrices, 'utf8'));
    } catch (error) {
      throw ReamError.nonRetryable('validation_failed', `--credit-prices ${flags.creditPrices}: ${error instanceof Error ? error.message : String(error)}`);
    }
    prices = checkPrices(parsed, `--credit-prices ${flags.creditPrices}`);
  }
  const given: CreditPrices = {
    ...(flags.pricePage === undefined ? {} : { page: flags.pricePage }),
    ...(flags.priceOcrPage === undefined ? {} : { ocrPage: flags.priceOcrPage }),
    ...(flags.priceLlmPrompt1k === undefined ? {} : { llmPrompt1kTokens: flags.priceLlmPrompt1k }),
    ...(flags.priceLlmCompletion1k === undefined ? {} : { llmCompletion1kTokens: flags.priceLlmCompletion1k }),
    ...(flags.priceRenderedPdf === undefined ? {} : { renderedPdf: flags.priceRenderedPdf }),
  };
  if (prices === undefined && Object.keys(given).length === 0) return undefined;
  return { prices: { ...prices, ...given } };
}
