import { inSpan } from '../../tracing/spans.ts';
import { createHash } from 'node:crypto';
import { ReamError } from '../../errors.ts';
import type { JsonValue } from '../../json.ts';
import type { AnalysisStore, TokenUsage } from '../store/port.ts';
import type { ChatAnswer, ChatMessage, ChatModel } from './client.ts';
import type { ModelRequest } from './modes/index.ts';
import { JobBudgets } from './budget.ts';
import { TURN_GIVEN_UP, type LlmPacer } from './pacer.ts';
import { messagesTokens, repairPrompt } from './prompts.ts';

/** The token budgets of the jobs this process calls the model for. */
const processBudgets = new JobBudgets();

/**
 * Longest answer taken, in characters (~250k tokens, above any model's answer limit). A longer
 * one is a broken or hostile server: kept, it would be validated, cached and copied into every
 * result and export of the job.
 */
export const MAX_ANSWER_CHARS = 1_000_000;

/** Bump when prompts or answer shapes change: old cache entries must not answer new requests. */
const CACHE_VERSION = 1;

export interface CallParameters {
  model: string;
  temperature: number;
  maxCompletionTokens?: number;
  /** The most a repair after an answer cut at its limit asks for (see {@link raisedCompletionLimit}). */
  maxCompletionTokensCeiling?: number;
  maxRepairs: number;
  /** Job budget in tokens, if any. */
  maxTokens?: number;
}

/** The least a call's answer is reserved when its parameters give no maxCompletionTokens. */
export const MIN_ANSWER_TOKENS = 256;

/**
 * What a call of a prompt of `promptTokens` may cost at most, set aside in the job's budget: the
 * prompt, and the answer up to its cap (or a quarter of the prompt, at least 256 tokens: a short
 * prompt may still get a long answer).
 */
export function callEstimate(promptTokens: number, parameters: CallParameters): number {
  return promptTokens + (parameters.maxCompletionTokens ?? Math.max(MIN_ANSWER_TOKENS, Math.ceil(promptTokens / 4)));
}

export interface CallScope {
  signal: AbortSignal;
  store: AnalysisStore;
  jobId: string;
  tenantId: string;
  /** The document's content hash: its answers are forgotten with it (`AnalysisStore.forgetDocument`). */
  sha256?: string | undefined;
  /** Usage of this call is added here (per chunk, per document). */
  usage: TokenUsage;
  /**
   * The text asked about can be asked about in smaller parts: a first call whose estimate is more
   * than the job's budget has left (something being left) is refused with `isPartOverBudget`,
   * rather than ending the budget. Absent: it ends the budget, as a call that cannot be smaller.
   */
  splittable?: boolean;
  /**
   * With `splittable`: the least the job's budget must have left for the part to be cut for it
   * (a page's text, whose pieces only complete the page if what is left holds them all). Below,
   * the call ends the budget as one that cannot be smaller, rather than asking about ever
   * smaller pieces of a page that fails anyway.
   */
  minLeftToSplit?: number;
  /** How the call waits for room in its job's budget (default: the process's). */
  budgets?: JobBudgets;
  /** Longest wait for room held by other workers' calls (`LlmProviderSettings.budgetWaitMs`); default the budgets'. */
  budgetWaitMs?: number;
  /**
   * Shared by the calls of one chunk (or one document step): once one of them has waited the
   * longest wait for room held by other workers' calls and given up, the others wait only what
   * is left of that same wait. A chunk split into many parts on its last attempt waited it once
   * per part, one after another.
   */
  budgetWait?: BudgetWaitClock;
  /**
   * The call may be left unmade (a chunk's parts' answers reduced into one, which they stand
   * without): refused for what the job has left, it fails with `budget_exceeded` and leaves the
   * budget as it is, where a call that cannot be smaller ends it for the job's other calls.
   */
  optional?: boolean;
}

/** When the first wait of a chunk's calls for room held by other workers' calls that gave up began. */
export interface BudgetWaitClock {
  gaveUpSince?: number;
}

/**
 * The cache key of a request: everything that decides the answer — the endpoint and model, the
 * messages (they hold the page text, the prompt and the schema), the answer schema and the
 * parameters — and the tenant: one tenant's answers never serve another (a hit would tell it that
 * someone else sent the same document with the same prompt). Never the API key.
 */
export function cacheKey(tenantId: string, endpoint: string, parameters: CallParameters, request: ModelRequest): string {
  const identity = {
    v: CACHE_VERSION, tenantId, endpoint, model: parameters.model, temperature: parameters.temperature,
    maxCompletionTokens: parameters.maxCompletionTokens ?? null, maxRepairs: parameters.maxRepairs,
    // Only when set: the keys of answers cached before the setting existed stay as they were.
    ...(parameters.maxCompletionTokensCeiling === undefined ? {} : { maxCompletionTokensCeiling: parameters.maxCompletionTokensCeiling }),
    messages: request.messages, schema: request.schema,
  };
  return createHash('sha256').update(JSON.stringify(identity)).digest('hex');
}

/**
 * The cache key saying that the request of `answerKey` was answered in parts (split for the job's
 * budget or the model's context): a later run asks about those parts, most of them answered
 * already, rather than paying again for the whole.
 */
export function answeredInPartsKey(answerKey: string): string {
  return createHash('sha256').update(`parts:${answerKey}`).digest('hex');
}

/** Parses a JSON answer, forgiving a Markdown code fence around it (small local models add one). */
export function parseAnswer(text: string): { value: JsonValue } | { problem: string } {
  const trimmed = text.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/i, '$1');
  try {
    return { value: JSON.parse(trimmed) as JsonValue };
  } catch (error) {
    return { problem: `it is not JSON (${error instanceof Error ? error.message : String(error)})` };
  }
}

/**
 * One answer to one request: from the cache when it was answered before (no call, no token);
 * otherwise within the job's budget, paced, validated, and repaired at most `maxRepairs` times
 * with the validation error in the prompt; then `llm_invalid_output`. A valid answer is cached.
 */
export async function answer(
  model: ChatModel, pacer: LlmPacer, parameters: CallParameters, request: ModelRequest, scope: CallScope, budgets: JobBudgets = scope.budgets ?? processBudgets,
): Promise<JsonValue> {
  const { store, signal } = scope;
  const key = cacheKey(scope.tenantId, model.info.endpoint, parameters, request);
  const hit = await store.cached(key);
  if (hit !== undefined) {
    scope.usage.cachedCalls++;
    await store.record({ jobId: scope.jobId, tenantId: scope.tenantId, model: parameters.model, promptTokens: 0, completionTokens: 0, calls: 0, cachedCalls: 1 });
    return hit;
  }
  const messages: ChatMessage[] = [...request.messages];
  let problem = '';
  // The answer's limit for this try: raised after an answer cut at it.
  let limit = parameters.maxCompletionTokens;
  for (let attempt = 0; attempt <= parameters.maxRepairs; attempt++) {
    signal.throwIfAborted();
    const estimate = callEstimate(messagesTokens(messages), { ...parameters, ...(limit === undefined ? {} : { maxCompletionTokens: limit }) });
    const budget = parameters.maxTokens;
    // Reserved once the call has its turn, and given back if the call fails (a throttled call
    // the pacer retries reserves again for its next try). Refused only because the job's other
    // calls in flight hold the rest, the call gives its slot and turn up (another job's call may
    // have them: the turn leaves the window, and counts as no success) and waits for room
    // outside the pacer, then takes a new turn.
    const started = Date.now();
    // A repair is of an answer already paid for: asking about smaller parts would pay again.
    // What is left only shrinks: too little to cut the part for now is too little for good.
    // An optional call is refused as a part over budget whenever something is left: never the budget's end.
    const minLeft = scope.optional === true ? 0 : scope.minLeftToSplit;
    const splittable = (scope.optional === true || (scope.splittable === true && attempt === 0))
      && (budget === undefined || await budgets.checkPart(store, scope.jobId, estimate, budget, minLeft));
    // Checked again when the reservation is refused: what is left may have shrunk meanwhile.
    const splitFrom = splittable ? (minLeft ?? 0) : undefined;
    let reply: ChatAnswer | typeof TURN_GIVEN_UP = TURN_GIVEN_UP;
    while (reply === TURN_GIVEN_UP) {
      reply = await pacer.run(estimate, async () => {
        if (budget !== undefined && !(await budgets.tryReserve(store, scope.jobId, estimate, budget, splitFrom))) return TURN_GIVEN_UP;
        try {
          return await inSpan('llm.call', { 'gen_ai.request.model': parameters.model, 'ream.attempt': attempt }, () => model.complete({
            model: parameters.model, messages, signal,
            format: { kind: 'json', name: request.name, schema: request.schema },
            temperature: parameters.temperature,
            ...(limit === undefined ? {} : { maxCompletionTokens: limit }),
          }));
        } catch (error) {
          // A refused answer was still billed: its tokens count (usage, budget) as an answer's do.
          const used = refusedUsage(error);
          if (used) {
            scope.usage.calls++;
            scope.usage.promptTokens += used.promptTokens;
            scope.usage.completionTokens += used.completionTokens;
            await store.record({ jobId: scope.jobId, tenantId: scope.tenantId, model: parameters.model, ...used, calls: 1, cachedCalls: 0 });
          }
          if (budget !== undefined) await budgets.settle(store, scope.jobId, estimate, used ? used.promptTokens + used.completionTokens : 0);
          throw error;
        }
      }, signal, (done) => done.promptTokens + done.completionTokens);
      if (reply === TURN_GIVEN_UP && budget !== undefined) await waitForRoom(budgets, scope, estimate, budget, started, splitFrom);
    }
    const spent = reply.promptTokens + reply.completionTokens;
    try {
      scope.usage.calls++;
      scope.usage.promptTokens += reply.promptTokens;
      scope.usage.completionTokens += reply.completionTokens;
      await store.record({ jobId: scope.jobId, tenantId: scope.tenantId, model: parameters.model, promptTokens: reply.promptTokens, completionTokens: reply.completionTokens, calls: 1, cachedCalls: 0 });
    } finally {
      if (budget !== undefined) await budgets.settle(store, scope.jobId, estimate, spent);
    }
    const parsed = reply.text.length > MAX_ANSWER_CHARS
      ? { problem: `it is ${reply.text.length} characters long, more than the ${MAX_ANSWER_CHARS} an answer may have` }
      : parseAnswer(reply.text);
    if ('value' in parsed) {
      const wrong = request.check(parsed.value);
      if (wrong === undefined) {
        await store.remember(key, parsed.value, scope.sha256 === undefined ? undefined : { tenantId: scope.tenantId, sha256: scope.sha256 });
        return parsed.value;
      }
      problem = `it does not match the schema (${wrong})`;
    } else problem = parsed.problem;
    if (reply.finishReason === 'length') {
      // Said after a schema problem too (a cut answer may still parse), never glued onto it.
      const raised = limit === undefined ? undefined : raisedCompletionLimit(limit, parameters);
      const cut = `it was cut off at the answer length limit${limit !== undefined && raised !== undefined && raised > limit ? ` of ${limit} tokens; the limit is now ${raised}: answer in full` : ''}`;
      problem = 'value' in parsed ? `${problem}; ${cut}` : cut;
      limit = raised;
    }
    // The request and the last invalid answer only: each earlier answer sent again would make
    // every repair cost more than the one before.
    messages.splice(request.messages.length, Infinity, { role: 'assistant', content: reply.text.slice(0, 20_000) }, { role: 'user', content: repairPrompt(problem) });
  }
  throw ReamError.nonRetryable('llm_invalid_output', `the model's answer stayed invalid after ${parameters.maxRepairs} repair(s): ${problem}`, {
    details: { repairs: parameters.maxRepairs },
  });
}

/**
 * Waits for room in the job's budget ({@link JobBudgets.room}), from the start of the first wait
 * of the scope's calls that gave up, if one did: a later call's wait is not a fresh one.
 */
async function waitForRoom(budgets: JobBudgets, scope: CallScope, estimate: number, budget: number, started: number, splitFrom: number | undefined): Promise<void> {
  const since = scope.budgetWait?.gaveUpSince ?? started;
  try {
    await budgets.room(scope.store, scope.jobId, estimate, budget, scope.signal, since, splitFrom, scope.budgetWaitMs);
  } catch (error) {
    if (scope.budgetWait && error instanceof ReamError && error.code === 'budget_exceeded' && error.retryable) scope.budgetWait.gaveUpSince ??= since;
    throw error;
  }
}

/**
 * The answer limit for a repair after an answer cut at `limit` (`finish_reason: length`): asked
 * again with the same limit, it would be cut again. Doubled, up to `maxCompletionTokensCeiling`
 * (default 4 × `maxCompletionTokens`): a bounded raise, each try's estimate reserved in the budget.
 */
export function raisedCompletionLimit(limit: number, parameters: CallParameters): number {
  const ceiling = parameters.maxCompletionTokensCeiling ?? (parameters.maxCompletionTokens ?? limit) * 4;
  return Math.max(limit, Math.min(limit * 2, ceiling));
}

/** The tokens a refused call used (`llm_refused`'s `details.usage`), if it says. */
function refusedUsage(error: unknown): { promptTokens: number; completionTokens: number } | undefined {
  if (!(error instanceof ReamError) || error.code !== 'llm_refused') return undefined;
  const usage = (error.details as { usage?: { promptTokens?: unknown; completionTokens?: unknown } } | undefined)?.usage;
  if (typeof usage?.promptTokens !== 'number' || typeof usage.completionTokens !== 'number') return undefined;
  return { promptTokens: usage.promptTokens, completionTokens: usage.completionTokens };
}
