import type { ErrorInfo } from '../../errors.ts';
import type { AnalysisStore } from './port.ts';

/**
 * Why a job's analysis is incomplete when its token budget stopped its model calls: the job's
 * `error` (code `budget_exceeded`), with the budget and what the job spent, for a job that ends
 * with what was read and answered (`partially_succeeded`). `null` when the budget did not stop it.
 * A budget spent says what to do next: a retry (the job's budget cannot be raised) asks the
 * model nothing more, and would end with this same error.
 */
export async function budgetStopError(store: AnalysisStore, jobId: string): Promise<ErrorInfo | null> {
  const stop = await store.budgetStop(jobId);
  if (!stop) return null;
  const spentTokens = (await store.jobUsage(jobId)).reduce((sum, usage) => sum + usage.promptTokens + usage.completionTokens, 0);
  const why = stop.ended
    ? 'a call\'s estimate did not fit in what was left, and no later call was made'
    : 'calls were still refused on their last attempt while the job\'s other calls in flight held the rest';
  const next = stop.ended
    ? '; a retry asks the model nothing more: to analyse the rest, submit its documents again with a larger maxTokens (the answers already given come from the cache)'
    : '';
  return {
    code: 'budget_exceeded',
    message: `the job's token budget (maxTokens ${stop.maxTokens}) stopped ${stop.ended ? 'its' : 'some of its'} model calls with ${spentTokens} tokens used: ${why}, so part of its analysis is missing (pages whose analysis failed with budget_exceeded keep their text; a document-level answer not asked is marked analysis_incomplete)${next}`,
    retryable: false,
    // Whether the budget is spent (a retry asks nothing more) or was held by calls in flight (a retry asks again).
    details: { maxTokens: stop.maxTokens, spentTokens, reason: stop.ended ? 'spent' : 'held' },
  };
}
