import { toReamError } from '../errors.ts';
import type { PageFailure, PageText } from '../formats/types.ts';
import { addUsage, NO_USAGE } from './store/port.ts';
import { ownValue, setOwn } from '../own-keys.ts';
import type { AnalysisResult, AnalyzeContext, Analyzer, FieldMatch, Fields } from './port.ts';

/** Pages of one chunk analysed at once by an analyzer that waits on I/O (a model): its pacer queues the rest. */
const PAGES_AT_ONCE = 16;

/**
 * Failures about what one page held (the model's answer to it): the page fails alone. Any other
 * failure for good (a refused key, an unknown model, the budget spent) is the same for every
 * page once it repeats: after {@link SAME_FAILURES_TO_STOP} pages in a row failed with the same
 * words, the pages not yet asked fail with it without being asked. Fewer may be about the page
 * (a provider's content filter answers one row 400 and the next 200).
 */
const PAGE_OWN_FAILURES: readonly string[] = ['llm_invalid_output', 'llm_refused', 'llm_context_too_long'];
const SAME_FAILURES_TO_STOP = 3;

/**
 * Runs `inner` on each page alone. For a table, whose pages are rows, that makes every row an
 * item of its own: a rule's "first match" is the row's first match, not the chunk's, and no
 * document-wide `reduce` or `finish` (an LLM's reduce prompt) merges one row into another. Each
 * match keeps its page (its row).
 *
 * An analyzer with `analyzeChunk` (the LLM analyzer) is asked about up to {@link PAGES_AT_ONCE}
 * pages at once; a page whose answer fails for good (`llm_invalid_output`, `llm_refused`, …)
 * becomes a failed page while its neighbours keep theirs; a failure for good that is not about
 * the page (`analyzer_failed`: a bad key) fails the pages not yet asked too, without a call
 * each. A retryable failure (the provider is down) fails the chunk, which is retried; the
 * answers it got are in the response cache. On the chunk's last attempt (`finalAttempt`) it is
 * final: the pages it reaches fail alone, as above, keeping their text (a table's cells).
 */
export function perPage(inner: Analyzer): Analyzer {
  const analyzer: Analyzer = {
    name: inner.name,
    config: inner.config,
    async analyze(pages, context) {
      if (inner.analyzeEachPage) return inner.analyzeEachPage(pages, context);
      const fields: Fields = {};
      for (const page of pages) {
        for (const [name, matches] of Object.entries(await inner.analyze([page], context))) addMatches(fields, name, matches);
      }
      return fields;
    },
  };
  const analyzeOne = inner.analyzeChunk?.bind(inner);
  if (!analyzeOne) return analyzer;
  return {
    ...analyzer,
    async analyzeChunk(pages, context) {
      let stop: PageFailure | undefined;
      let streak: { failure: PageFailure; count: number } | undefined;
      const results = await mapBounded(pages, PAGES_AT_ONCE, async (page): Promise<AnalysisResult | { failure: PageFailure }> => {
        if (stop) return { failure: { ...stop, page: page.page } };
        const result = await analyzePage(analyzeOne, page, context);
        if (!('failure' in result) || PAGE_OWN_FAILURES.includes(result.failure.code)) {
          streak = undefined;
        } else {
          const same = streak !== undefined && streak.failure.code === result.failure.code && streak.failure.message === result.failure.message;
          streak = { failure: result.failure, count: same && streak ? streak.count + 1 : 1 };
          if (streak.count >= SAME_FAILURES_TO_STOP) stop ??= result.failure;
        }
        return result;
      });
      const fields: Fields = {};
      const failures: PageFailure[] = [];
      let usage = NO_USAGE;
      for (const result of results) {
        if ('failure' in result) {
          failures.push(result.failure);
          continue;
        }
        for (const [name, matches] of Object.entries(result.fields)) addMatches(fields, name, matches);
        if (result.usage) usage = addUsage(usage, result.usage);
        // Part of a long row's text answered before the budget ended: the row fails too, its answer kept.
        failures.push(...(result.failures ?? []));
      }
      return { fields, usage, ...(failures.length > 0 ? { failures } : {}) };
    },
  };
}

/** Appends a page's matches to its field's, an own key whatever the name (`constructor`, `__proto__`: own-keys.ts). */
function addMatches(fields: Fields, name: string, matches: readonly FieldMatch[]): void {
  (ownValue(fields, name) ?? setOwn(fields, name, [])).push(...matches);
}

/** One page as a chunk of its own; every match is placed on it, whatever page the analyzer named. */
async function analyzePage(
  analyzeChunk: NonNullable<Analyzer['analyzeChunk']>,
  page: PageText,
  context: AnalyzeContext,
): Promise<AnalysisResult | { failure: PageFailure }> {
  const chunk = { index: context.chunk?.index ?? 0, from: page.page - 1, to: page.page };
  try {
    const result = await analyzeChunk([page], { ...context, chunk });
    const fields: Fields = {};
    for (const [name, matches] of Object.entries(result.fields)) {
      setOwn(fields, name, matches.map(({ pages: _pages, ...match }) => ({ ...match, page: page.page })));
    }
    return { ...result, fields };
  } catch (thrown) {
    const error = toReamError(thrown);
    if ((error.retryable && context.finalAttempt === undefined) || context.signal.aborted) throw error;
    const message = error.retryable ? `${error.message} (after ${context.finalAttempt} attempts)` : error.message;
    return { failure: { page: page.page, code: error.code, message } };
  }
}

/** `fn` over `items` with at most `limit` running at once, results in input order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T);
      } catch (error) {
        next = items.length; // the others take nothing new: the whole run has failed
        throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}
