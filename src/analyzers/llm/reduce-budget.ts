import { ReamError } from '../../errors.ts';
import { callEstimate, MIN_ANSWER_TOKENS, type CallParameters } from './caller.ts';
import type { LlmModeHandler, ModelRequest, PlacedData } from './modes/index.ts';
import { messagesTokens } from './prompts.ts';
import { MAX_SPLIT_DEPTH } from './split.ts';

/** `details.reason` of a reduce stopped before its first call: its stages could not all be paid for. */
export const REDUCE_OVER_BUDGET = 'reduce_over_budget';

/**
 * The two halves a reduce in stages asks about first (the first one the larger), in page order.
 * The halves' answers are then reduced in a last stage.
 */
export function halvesOf(placed: readonly PlacedData[]): [PlacedData[], PlacedData[]] {
  const middle = Math.ceil(placed.length / 2);
  return [placed.slice(0, middle), placed.slice(middle)];
}

/**
 * The least the last stage of a reduce in stages needs: the reduce prompt's instructions (its
 * system messages; the halves' answers come on top) and the least answer reserved.
 */
function lastStageAtLeast(request: ModelRequest, parameters: CallParameters): number {
  return messagesTokens(request.messages.filter((message) => message.role === 'system')) + (parameters.maxCompletionTokens ?? MIN_ANSWER_TOKENS);
}

/** A reduce over `placed` at `depth` may be made in stages (halves first) rather than whole. */
export function canReduceInStages(placed: readonly PlacedData[], depth: number): boolean {
  return placed.length > 2 && depth < MAX_SPLIT_DEPTH;
}

/**
 * What a reduce over `placed` at `depth` spends at least (its prompt: in stages, each holds part
 * of it), and the least it needs left when it begins: a whole call's estimate, reserved; in
 * stages, at least its prompt and the least answer. Nothing for a single part (no call).
 */
function partAtLeast(handler: LlmModeHandler, parameters: CallParameters, placed: readonly PlacedData[], depth: number): { spends: number; needs: number } {
  const request = handler.reduce(placed);
  if (!request) return { spends: 0, needs: 0 };
  const prompt = messagesTokens(request.messages);
  return { spends: prompt, needs: canReduceInStages(placed, depth) ? prompt + (parameters.maxCompletionTokens ?? MIN_ANSWER_TOKENS) : callEstimate(prompt, parameters) };
}

/**
 * Lower bounds for a reduce in stages over `placed` (whose whole request is `request`), given
 * that `after` is needed once the whole is answered: what the budget must have left when it
 * begins (`needs`), once its first half is answered (`afterFirst`: the second half's need, or
 * the last stage's after what the second spends), and once its second is (`afterSecond`: the
 * last stage's). Each half's prompt holds its own instructions again: the stages cost more than
 * the whole prompt.
 */
export function stagesAtLeast(
  handler: LlmModeHandler, parameters: CallParameters, placed: readonly PlacedData[], request: ModelRequest, depth: number, after: number,
): { needs: number; afterFirst: number; afterSecond: number } {
  const [first, second] = halvesOf(placed).map((half) => partAtLeast(handler, parameters, half, depth + 1)) as [{ spends: number; needs: number }, { spends: number; needs: number }];
  const last = lastStageAtLeast(request, parameters) + after;
  const secondNeeds = Math.max(second.needs, second.spends + last);
  return { needs: Math.max(first.needs, first.spends + secondNeeds), afterFirst: secondNeeds, afterSecond: last };
}

/**
 * The least a whole reduce call of `promptTokens` needs left in the budget: its own estimate
 * reserved, and its prompt spent with what the later stages of the reduce (`after`) need.
 */
export function wholeAtLeast(promptTokens: number, parameters: CallParameters, after: number): number {
  return Math.max(callEstimate(promptTokens, parameters), promptTokens + after);
}

/** The reduce (a stage of it) is stopped before any of its calls: what is left cannot pay for it. */
export function reduceOverBudget(budget: number, left: number, needed: number): ReamError {
  return ReamError.nonRetryable('budget_exceeded', `the job's token budget (maxTokens ${budget}) has ${left} tokens left, fewer than the document-level answer needs at least (about ${needed} tokens, asked in stages or whole): it is not asked, and the job makes no more model calls`, {
    details: { maxTokens: budget, left, needed, reason: REDUCE_OVER_BUDGET },
  });
}
