import { ReamError, toReamError } from '../../errors.ts';
import type { PageText, PageWarning } from '../../formats/types.ts';
import { asJson, type JsonObject, type JsonValue } from '../../json.ts';
import type { AnalysisResult, AnalyzeContext, Analyzer, ChunkAnalysis, Fields } from '../port.ts';
import { MemoryAnalysisStore } from '../store/memory-analysis-store.ts';
import { NO_USAGE, type AnalysisStore, type TokenUsage } from '../store/port.ts';
import { isPartOverBudget, type JobBudgets } from './budget.ts';
import { answer, answeredInPartsKey, cacheKey, callEstimate, MIN_ANSWER_TOKENS, type CallParameters, type CallScope } from './caller.ts';
import { createLlmClient, type LlmClient } from './llm-client.ts';
import { modeHandler, type LlmModeHandler, type ModelRequest, type PlacedData } from './modes/index.ts';
import { canReduceInStages, halvesOf, reduceOverBudget, stagesAtLeast, wholeAtLeast } from './reduce-budget.ts';
import { messagesTokens } from './prompts.ts';
import type { LlmProviderSettings } from './settings.ts';
import { parseLlmSpec, type LlmSpec } from './spec.ts';
import { canSplit, MAX_SPLIT_DEPTH, MIN_PART_CHARS, splitPages } from './split.ts';

export interface LlmAnalyzerOptions extends Omit<LlmSpec, 'mode'> {
  mode?: LlmSpec['mode'];
  /**
   * The analyzer's name: the key of its answers in a document's `analysis` (default `llm`).
   * Two model analyzers in one pipeline need names of their own.
   */
  name?: string;
  /** A shared client (one per process: pacing sees every call). */
  client?: LlmClient;
  /** Or the provider, for a client of this analyzer's own. One of the two is needed. */
  provider?: LlmProviderSettings;
  /**
   * Cache and usage ledger when the engine gives none (a direct call); inside a ream the
   * deployment's store is used.
   */
  store?: AnalysisStore;
  /**
   * How calls wait for room in their job's token budget: the process's (one per process, so that
   * its calls of a job wake each other) unless given (a test's, with waits of milliseconds).
   */
  budgets?: JobBudgets;
}

/** Failures of the reduce prompt after which the chunks' answers are combined without it. */
const REDUCE_FALLBACK_CODES: readonly string[] = ['llm_context_too_long', 'llm_invalid_output', 'llm_refused'];

/**
 * An analyzer that asks a chat model about each chunk (map) and combines the chunks per
 * document (reduce): `extract` (JSON Schema fields with pages and quotes), `summarize`,
 * `classify`, `ask`. Composable with the rules analyzer in one pipeline. Spec errors are
 * `validation_failed` here, before any document is read.
 */
export function createLlmAnalyzer(options: LlmAnalyzerOptions): Analyzer {
  const { client: given, provider, store: ownStore, budgets, name = 'llm', ...specInput } = options;
  if (typeof name !== 'string' || name.trim() === '' || name.length > 100) throw ReamError.nonRetryable('validation_failed', 'createLlmAnalyzer\'s name must be a non-empty string of at most 100 characters');
  const spec = parseLlmSpec(asJson(specInput) as JsonObject);
  if (!given && !provider) throw ReamError.nonRetryable('validation_failed', 'createLlmAnalyzer needs a client or provider settings');
  const client = given ?? createLlmClient(provider as LlmProviderSettings);
  const handler = modeHandler(spec);
  refuseTooSmallContext(handler, client.contextTokens);
  const store = ownStore ?? new MemoryAnalysisStore();
  const parameters: CallParameters = {
    model: spec.model ?? client.model.info.model,
    temperature: spec.temperature ?? 0,
    maxRepairs: spec.maxRepairs ?? 2,
    ...(spec.maxCompletionTokens === undefined ? {} : { maxCompletionTokens: spec.maxCompletionTokens }),
    ...(spec.maxCompletionTokensCeiling === undefined ? {} : { maxCompletionTokensCeiling: spec.maxCompletionTokensCeiling }),
    ...(spec.maxTokens === undefined ? {} : { maxTokens: spec.maxTokens }),
  };
  const scopeOf = (context: AnalyzeContext, usage: TokenUsage): CallScope => ({
    signal: context.signal,
    store: context.store ?? store,
    jobId: context.jobId ?? `direct:${context.documentId}`,
    tenantId: context.tenantId ?? 'local',
    sha256: context.sha256,
    usage,
    budgetWait: {},
    ...(budgets ? { budgets } : {}),
    ...(client.budgetWaitMs === undefined ? {} : { budgetWaitMs: client.budgetWaitMs }),
  });
  // A call still refused on its task's last attempt for the job's other calls in flight is not
  // made, for good: the budget stopped it, and the job says so when it ends, as when spent.
  const noteFinalRefusal = async (error: unknown, context: AnalyzeContext): Promise<boolean> => {
    const final = error instanceof ReamError && error.code === 'budget_exceeded' && error.retryable && context.finalAttempt !== undefined && !context.signal.aborted;
    if (final && parameters.maxTokens !== undefined) await (context.store ?? store).markStopped(context.jobId ?? `direct:${context.documentId}`, parameters.maxTokens);
    return final;
  };
  const analyzeChunk = async (pages: readonly PageText[], context: AnalyzeContext): Promise<AnalysisResult> => {
    const usage: TokenUsage = { ...NO_USAGE };
    const chunk = context.chunk;
    const owns = chunk ? (page: number) => page > chunk.from && page <= chunk.to : () => true;
    let mapped: MappedPart;
    try {
      const final = context.finalAttempt !== undefined;
      mapped = await mapPart(handler, client, parameters, [...pages].sort((a, b) => a.page - b.page), owns, scopeOf(context, usage), final, 0);
    } catch (error) {
      await noteFinalRefusal(error, context);
      throw error;
    }
    const { placed: parts, failed } = mapped;
    for (const { error } of failed) await noteFinalRefusal(error, context);
    // No part was answered (the budget ended first, or every part was refused on the last attempt): the chunk's analysis fails as a whole.
    if (failed[0] && parts.length === 0) throw failed[0].error;
    const data = parts.length === 1 ? (parts[0]?.data ?? null)
      : failed.length === 0 ? await reduceChunkParts(handler, client, parameters, parts, scopeOf(context, usage), context.finalAttempt !== undefined)
        : handler.combine(parts);
    const failures = failedPages(failed).map(({ page, error }) => ({
      page, code: error.code,
      message: `the ${name} analysis of page ${page} failed: ${error.message}${error.retryable ? ` (after ${context.finalAttempt} attempts)` : ''}`,
    }));
    return { fields: handler.fields(data, firstPageOf(pages, owns)), data, usage, ...(failures.length > 0 ? { failures } : {}) };
  };
  return {
    name,
    config: asJson({ ...spec, model: parameters.model, endpoint: client.model.info.endpoint }),
    analyze: async (pages, context) => (await analyzeChunk(pages, context)).fields,
    analyzeChunk,
    async finish(chunks: readonly ChunkAnalysis[], _merged: Fields, context: AnalyzeContext): Promise<AnalysisResult> {
      const usage: TokenUsage = { ...NO_USAGE };
      const placed: PlacedData[] = chunks
        .filter((chunk): chunk is ChunkAnalysis & { data: JsonValue } => chunk.data !== undefined)
        .sort((a, b) => a.from - b.from)
        .map((chunk) => ({ firstPage: chunk.from + 1, lastPage: chunk.to, data: chunk.data }));
      let combined: JsonValue;
      let warnings: PageWarning[] = [];
      try {
        combined = await reduceParts(handler, client, parameters, placed, scopeOf(context, usage), 0);
      } catch (error) {
        // The reduce prompt refused for what it holds (too long, refused, answered wrong): the
        // chunks' answers stand, combined as they are, and the document says so. A failure of
        // the provider itself (unavailable, throttled) still fails the step, for the queue to retry.
        // So does the job's token budget spent (no later call would be made), or still held by
        // the job's other calls in flight on the merge's last attempt.
        const budgetStop = error instanceof ReamError && error.code === 'budget_exceeded' && (!error.retryable || await noteFinalRefusal(error, context));
        if (!(error instanceof ReamError) || !(REDUCE_FALLBACK_CODES.includes(error.code) || budgetStop)) throw error;
        combined = handler.combine(placed);
        warnings = [{ page: placed[0]?.firstPage ?? 1, code: 'analysis_incomplete', message: `the model's document-level answer failed (${error.code}: ${error.message}); the chunks' answers are combined as they are` }];
      }
      const data = handler.finalize(combined);
      return { fields: handler.fields(data, placed[0]?.firstPage ?? 1), data, usage, ...(warnings.length > 0 ? { warnings } : {}) };
    },
  };
}

/**
 * The answers of a chunk answered whole in parts (split for the model's context or the job's
 * budget, on this run or an earlier one) reduced into one, as the chunk's single call would have
 * answered: a run that takes some parts from the cache gives the same shape of answer as one that
 * asked about the chunk at once (a summary, not its parts' summaries one after another). The
 * reduce answer is cached: a run with every part cached makes no call. When the job's budget has
 * less left than the reduce call's estimate, or the reduce prompt fails for what it holds or for
 * the budget (or on the chunk's last attempt, for now), the parts' answers are combined as they are; a failure of the provider before the last attempt fails the
 * chunk, for the queue to retry.
 */
async function reduceChunkParts(
  handler: LlmModeHandler, client: LlmClient, parameters: CallParameters, parts: readonly PlacedData[], scope: CallScope, final: boolean,
): Promise<JsonValue> {
  const request = handler.reduce(parts);
  if (!request) return handler.combine(parts);
  // Not in stages for the budget, nor past what is left: a chunk's parts are answered already, and
  // a reduce refused for the budget would end it for the job's other chunks.
  const budget = parameters.maxTokens;
  if (budget !== undefined && (await scope.store.cached(cacheKey(scope.tenantId, client.model.info.endpoint, parameters, request))) === undefined
    && (await scope.store.budgetLeft(scope.jobId, budget)) < callEstimate(messagesTokens(request.messages), parameters)) return handler.combine(parts);
  try {
    return await reduceParts(handler, client, parameters, parts, { ...scope, optional: true }, 0);
  } catch (error) {
    const failure = toReamError(error);
    const combine = REDUCE_FALLBACK_CODES.includes(failure.code) || (failure.code === 'budget_exceeded' && !failure.retryable) || (final && failure.retryable && !scope.signal.aborted);
    if (!combine) throw error;
    return handler.combine(parts);
  }
}

/**
 * A context window that the fixed part of the prompt (instructions, schema, prompt) fills
 * leaves no room for text: every chunk would be split down to single pages and each page fail.
 * Refused before any document is read (`validation_failed`, at submit), naming the numbers.
 */
function refuseTooSmallContext(handler: LlmModeHandler, contextTokens: number | undefined): void {
  if (contextTokens === undefined) return;
  const fixed = messagesTokens(handler.map([]).messages);
  const needed = fixed + Math.ceil(MIN_PART_CHARS / 4);
  if (needed <= contextTokens) return;
  throw ReamError.nonRetryable('validation_failed', `the model's context (contextTokens, REAM_LLM_CONTEXT_TOKENS) is ${contextTokens} tokens, but the fixed prompt (instructions and schema) takes about ${fixed}: at least ${needed} are needed to send any page text; raise it, or shorten the prompt or schema`, {
    details: { contextTokens, promptTokens: fixed, needed },
  });
}

function firstPageOf(pages: readonly PageText[], owns: (page: number) => boolean): number {
  return pages.map((page) => page.page).filter(owns).sort((a, b) => a - b)[0] ?? pages[0]?.page ?? 1;
}

/**
 * The reduce step over a document's parts: one call, or — when their answers together are longer
 * than the model takes (a long book's chunk summaries past `contextTokens`), or the call's
 * estimate is more than the job's token budget has left — each half of them reduced first,
 * recursively, and the halves' answers then. Parts stay in page order. `after`: the least the
 * stages after this one need (a half's sibling and the last stage), which the budget must still
 * hold once this one is answered. A call whose answer would leave too little for them is not
 * made: the reduce stops at once (`budget_exceeded`, `details.reason: reduce_over_budget`), where
 * it paid for stages whose last could never be asked.
 */
async function reduceParts(
  handler: LlmModeHandler, client: LlmClient, parameters: CallParameters, placed: readonly PlacedData[], scope: CallScope, depth: number, after = 0,
): Promise<JsonValue> {
  const request = handler.reduce(placed);
  if (!request) return handler.combine(placed);
  const promptTokens = messagesTokens(request.messages);
  const splittable = canReduceInStages(placed, depth);
  const tooLong = client.contextTokens !== undefined && promptTokens > client.contextTokens;
  if (tooLong && splittable) return reduceHalves(handler, client, parameters, placed, request, scope, depth, after);
  const key = cacheKey(scope.tenantId, client.model.info.endpoint, parameters, request);
  // Reduced in stages before (a run with less budget left): the stages' answers are cached, and
  // asking for the whole would pay for every part's answer again.
  const partsKey = splittable ? answeredInPartsKey(key) : undefined;
  if (partsKey !== undefined && (await scope.store.cached(partsKey)) !== undefined) return reduceHalves(handler, client, parameters, placed, request, scope, depth, after);
  // Reduced in stages only while what is left could pay for them: they send every part's answer
  // once, each half with its own instructions, and the last of them needs an answer. Below, this
  // call ends the budget as one that cannot be smaller (the document then combines its parts without it).
  const minLeftToSplit = splittable ? stagesAtLeast(handler, parameters, placed, request, depth, after).needs : Number.POSITIVE_INFINITY;
  const budget = parameters.maxTokens;
  if (budget !== undefined && (await scope.store.cached(key)) === undefined) {
    const left = await scope.store.budgetLeft(scope.jobId, budget);
    const whole = wholeAtLeast(promptTokens, parameters, after);
    if (whole > left) {
      if (minLeftToSplit <= left) return reduceHalves(handler, client, parameters, placed, request, scope, depth, after, partsKey);
      const needed = Math.min(whole, minLeftToSplit);
      if (scope.optional === true || await scope.store.exhaust(scope.jobId, needed, budget)) throw reduceOverBudget(budget, left, needed);
    }
  }
  try {
    return handler.reduced(await answer(client.model, client.pacer, parameters, request, splittable ? { ...scope, splittable, minLeftToSplit } : scope), placed);
  } catch (error) {
    if (!(splittable && isPartOverBudget(error))) throw error;
    return reduceHalves(handler, client, parameters, placed, request, scope, depth, after, partsKey);
  }
}

/**
 * Each half of `placed` reduced (see {@link reduceParts}), then the halves' answers, each stage
 * leaving what those after it need at least. With `partsKey`, each half reduced notes that the
 * whole is answered in stages (see {@link rememberInParts}).
 */
async function reduceHalves(
  handler: LlmModeHandler, client: LlmClient, parameters: CallParameters, placed: readonly PlacedData[], request: ModelRequest,
  scope: CallScope, depth: number, after: number, partsKey?: string,
): Promise<JsonValue> {
  const halves = halvesOf(placed);
  // What must be left once each half is answered: the second half's need, then the last stage's.
  const { afterFirst, afterSecond } = stagesAtLeast(handler, parameters, placed, request, depth, after);
  const reduced: PlacedData[] = [];
  for (const [index, half] of halves.entries()) {
    reduced.push({
      firstPage: Math.min(...half.map((part) => part.firstPage)),
      lastPage: Math.max(...half.map((part) => part.lastPage)),
      data: await reduceParts(handler, client, parameters, half, scope, depth + 1, index === 0 ? afterFirst : afterSecond),
    });
    if (partsKey !== undefined) await rememberInParts(scope, partsKey);
  }
  return reduceParts(handler, client, parameters, reduced, scope, depth + 1, after);
}

/** What the map step answered for some pages, and the owned pages it did not. */
interface MappedPart {
  placed: PlacedData[];
  /**
   * Owned pages not answered: the job's budget ended before they were asked about, or (on the
   * task's last attempt) their part's call was still refused for now.
   */
  failed: Array<{ pages: number[]; error: ReamError }>;
  /** The job's budget ended: no later part is asked about. */
  ended?: ReamError;
}

/**
 * The map step over some pages of a chunk: one call, or — when the pages are longer than the
 * model takes (known before, or `llm_context_too_long` after), or their call's estimate is more
 * than the job's token budget has left — the halves, recursively. Once the budget ends (no
 * smaller part fits either), the parts answered stay answered and the pages of the parts not
 * asked about have `failed`. On the task's last attempt (`final`) so have those of a part whose
 * call still fails in a way another attempt might cure (throttled, unavailable, the budget held by the job's calls in flight);
 * before it, that fails the chunk for the queue to retry, the parts answered coming from the cache.
 */
async function mapPart(
  handler: LlmModeHandler, client: LlmClient, parameters: CallParameters,
  pages: PageText[], owns: (page: number) => boolean, scope: CallScope, final: boolean, depth: number,
): Promise<MappedPart> {
  // Pages without text (blank, scanned without OCR) give the model nothing to read: asked anyway,
  // it is paid for an answer it can only invent. Such a part answers nothing, without a call.
  if (!pages.some((page) => owns(page.page) && page.text.trim() !== '')) return { placed: [], failed: [] };
  const request = handler.map(pages);
  const splittable = depth < MAX_SPLIT_DEPTH && canSplit(pages);
  const tooLong = client.contextTokens !== undefined && messagesTokens(request.messages) > client.contextTokens;
  // Answered in parts before (a run with less budget left): those parts' answers are cached, and
  // asking about the whole would pay for all of its text again.
  const partsKey = splittable && !tooLong ? answeredInPartsKey(cacheKey(scope.tenantId, client.model.info.endpoint, parameters, request)) : undefined;
  const inParts = partsKey !== undefined && (await scope.store.cached(partsKey)) !== undefined;
  if (!(tooLong && splittable) && !inParts) {
    try {
      // A page's text is cut for the budget only while what is left could hold all of it: its
      // pieces' prompts, and the answer of the last one at least (each spends about its prompt).
      const minLeftToSplit = pages.length === 1 ? messagesTokens(request.messages) + (parameters.maxCompletionTokens ?? MIN_ANSWER_TOKENS) : undefined;
      const raw = await answer(client.model, client.pacer, parameters, request, { ...scope, splittable, ...(minLeftToSplit === undefined ? {} : { minLeftToSplit }) });
      const ownedPages = pages.map((page) => page.page).filter(owns);
      const range = ownedPages.length > 0 ? ownedPages : pages.map((page) => page.page);
      return { placed: [{ firstPage: Math.min(...range), lastPage: Math.max(...range), data: handler.chunkData(raw, { pages, owns }) }], failed: [] };
    } catch (error) {
      if (!splittable || !(isPartOverBudget(error) || toReamError(error).code === 'llm_context_too_long')) throw error;
    }
  }
  // A half of nothing but overlap pages (context for the chunk's own) is not asked about: it
  // would answer for pages of the neighbouring chunk.
  const halves = splitPages(pages).filter((half) => half.some((page) => owns(page.page)));
  const mapped: MappedPart = { placed: [], failed: [] };
  for (const half of halves) {
    if (mapped.ended) {
      mapped.failed.push({ pages: ownedOf(half, owns), error: mapped.ended }); // the budget has ended: not asked
      continue;
    }
    try {
      const part = await mapPart(handler, client, parameters, half, owns, scope, final, depth + 1);
      mapped.placed.push(...part.placed);
      mapped.failed.push(...part.failed);
      mapped.ended ??= part.ended;
      if (partsKey !== undefined && !inParts && part.placed.length > 0) await rememberInParts(scope, partsKey);
    } catch (error) {
      if (isBudgetEnd(error)) mapped.ended = error;
      else if (!(final && error instanceof ReamError && error.retryable && !scope.signal.aborted)) throw error;
      mapped.failed.push({ pages: ownedOf(half, owns), error });
    }
  }
  return mapped;
}

/**
 * Notes that the request of `partsKey` ({@link answeredInPartsKey}) was answered in parts, some of
 * them cached: a later run asks about the same parts rather than paying again for the whole.
 */
async function rememberInParts(scope: CallScope, partsKey: string): Promise<void> {
  await scope.store.remember(partsKey, true, scope.sha256 === undefined ? undefined : { tenantId: scope.tenantId, sha256: scope.sha256 });
}

/** The job's token budget ended: no later call of the job is made. */
function isBudgetEnd(error: unknown): error is ReamError {
  return error instanceof ReamError && error.code === 'budget_exceeded' && !error.retryable && !isPartOverBudget(error);
}

/** Each failed page once, in order, with the first error that failed it (a page cut in two may fail in both halves). */
function failedPages(failed: MappedPart['failed']): Array<{ page: number; error: ReamError }> {
  const byPage = new Map<number, ReamError>();
  for (const { pages, error } of failed) for (const page of pages) if (!byPage.has(page)) byPage.set(page, error);
  return [...byPage].sort(([a], [b]) => a - b).map(([page, error]) => ({ page, error }));
}

function ownedOf(pages: readonly PageText[], owns: (page: number) => boolean): number[] {
  return pages.map((page) => page.page).filter(owns);
}
