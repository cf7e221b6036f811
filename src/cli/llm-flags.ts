import { readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ReamError, toReamError, type ErrorInfo } from '../errors.ts';
import type { JobView, UsageView } from '../api-types.ts';
import type { JsonObject, JsonValue } from '../json.ts';
import { positiveInt } from './parse-flags.ts';

/**
 * `ream run` flags of the `llm` pipeline. Only what to ask goes into job options; the provider
 * (base URL, model, API key) comes from REAM_LLM_* in the environment, so the key is never in
 * a flag (visible to `ps`) nor stored with the job. `rows`: the flags of `ream rows`, which asks
 * about each row alone: the document step's and page context's flags are hidden from its help
 * (and refused by {@link rowLlmJobOptions} with a reason).
 */
export function addLlmFlags(command: Command, unit: 'document' | 'row' = 'document'): Command {
  const rows = unit === 'row';
  const implies = rows ? 'asks the model about each row' : 'implies --pipeline llm';
  return command
    .option('--llm-schema <file>', `JSON Schema of the fields to extract with the model (${implies})`)
    .option('--llm-prompt <text>', `instructions for the model, per ${rows ? 'row' : 'chunk'} (${implies})`)
    .addOption(new Option('--llm-mode <mode>', 'extract (with --llm-schema), summarize, classify, ask').choices(['extract', 'summarize', 'classify', 'ask']))
    .option('--llm-labels <labels>', 'comma-separated labels for --llm-mode classify', (value: string) => {
      const labels = value.split(',').map((label) => label.trim()).filter((label) => label !== '');
      if (labels.length < 2) throw new InvalidArgumentError('give at least two labels');
      return labels;
    })
    .option('--llm-question <text>', 'the question for --llm-mode ask')
    .addOption(new Option('--llm-reduce-prompt <text>', 'instructions for the document step that combines chunk answers').hideHelp(rows))
    .option('--llm-model <name>', 'model to use instead of REAM_LLM_MODEL')
    .option('--llm-max-tokens <n>', 'token budget of the job: model calls stop with budget_exceeded beyond it', positiveInt)
    .addOption(new Option('--llm-overlap <pages>', 'pages of context each chunk also sends on either side (default 1)').hideHelp(rows).argParser((value: string) => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be an integer ≥ 0');
      return n;
    }));
}

/** Job options of the llm flags given, or `undefined` when none is. */
export function llmJobOptions(flags: Record<string, unknown>): JsonObject | undefined {
  const options: JsonObject = {};
  if (typeof flags.llmSchema === 'string') options.schema = readSchema(flags.llmSchema);
  const copy: Array<[string, string]> = [
    ['llmPrompt', 'prompt'], ['llmMode', 'mode'], ['llmQuestion', 'question'], ['llmReducePrompt', 'reducePrompt'],
    ['llmModel', 'model'], ['llmMaxTokens', 'maxTokens'], ['llmOverlap', 'overlapPages'], ['llmLabels', 'labels'],
  ];
  for (const [flag, key] of copy) if (flags[flag] !== undefined) options[key] = flags[flag] as JsonValue;
  if (Object.keys(options).length === 0) return undefined;
  if (options.mode === undefined && options.schema === undefined) {
    throw ReamError.nonRetryable('validation_failed', 'give --llm-schema (extract) or --llm-mode summarize|classify|ask');
  }
  return options;
}

function readSchema(path: string): JsonValue {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as JsonValue;
  } catch (error) {
    throw ReamError.nonRetryable('validation_failed', `cannot read the schema file ${path}: ${toReamError(error).message}`);
  }
}

/** The summary line of the model's usage (`ream run`, `ream rows`). */
export function formatModelUsage(usage: UsageView): string {
  return `model: ${usage.totalTokens} tokens (${usage.promptTokens} prompt + ${usage.completionTokens} completion) in ${usage.calls} call(s), ${usage.cachedCalls} from the cache` +
    (usage.costUsd === undefined ? '' : `, $${usage.costUsd.toFixed(4)}`);
}

/**
 * Why a job that ended with part of its work done was stopped short (its token budget spent):
 * its `error`, when it has one and did not fail (a failed job's files say why themselves).
 */
export function jobStop(job: Pick<JobView, 'status' | 'error'>): JobStop | undefined {
  if (job.status !== 'partially_succeeded' || !job.error) return undefined;
  const { code, message, details } = job.error;
  return { code, message, ...(details === undefined ? {} : { details }) };
}

export type JobStop = Pick<ErrorInfo, 'code' | 'message' | 'details'>;

/**
 * What to do about the files of a `ream run` that did not succeed. A job whose token budget is
 * spent makes no more model calls, even retried, and resuming it with another budget is refused:
 * it is run anew with a larger one, the answers it was given coming from the cache. A job whose
 * calls were refused while its other calls in flight held the rest of the budget has some left:
 * a retry asks about the failed files again within it.
 */
export function runNextStep(stop: JobStop | undefined): string {
  if (stop?.code !== 'budget_exceeded') return 'add --retry-failed to the same command to run the failed files again';
  if ((stop.details as { reason?: unknown } | undefined)?.reason === 'held') {
    return 'its token budget is not spent (calls were refused while its other calls in flight held the rest): add --retry-failed to the same command to ask the model again about the failed files within what is left';
  }
  return 'its token budget is spent (--retry-failed asks the model nothing more): run the same command with a larger --llm-max-tokens and --no-resume to analyse the rest (the answers already given come from the cache)';
}

/** The summary line of a job stopped short (`ream run`, `ream rows`). */
export function formatJobStop(stop: Pick<ErrorInfo, 'code' | 'message'>): string {
  return `stopped: ${stop.message} [${stop.code}]`;
}

/**
 * Job options of the llm flags for `ream rows`, where each row is asked alone: the flags of the
 * document step and of page context do not apply and are refused rather than ignored.
 */
export function rowLlmJobOptions(flags: Record<string, unknown>): JsonObject | undefined {
  for (const [flag, name] of [['llmReducePrompt', '--llm-reduce-prompt'], ['llmOverlap', '--llm-overlap']] as const) {
    if (flags[flag] !== undefined) throw ReamError.nonRetryable('validation_failed', `${name} does not apply to ream rows: each row is asked about alone`);
  }
  return llmJobOptions(flags);
}
