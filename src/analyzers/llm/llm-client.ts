import type { ChatAnswer, ChatModel, ChatRequest } from './client.ts';
import { LlmPacer, type LlmPacerSettings } from './pacer.ts';
import type { RateWindow } from './rate-window.ts';
import { checkBaseUrl, checkBudgetWaitMs, checkHeaderValues, publicEndpoint, type LlmProviderSettings, type ProviderInfo } from './settings.ts';

/**
 * A model with its pacing: create one per process and share it between analyzers (and jobs),
 * so the concurrency limit and the rate window see every call.
 */
export interface LlmClient {
  readonly model: ChatModel;
  readonly pacer: LlmPacer;
  /** Prompt size the model takes, in tokens (chunks are split before they exceed it). */
  readonly contextTokens: number | undefined;
  /** Longest wait for room in a job's budget held by other workers' calls (default: `JobBudgets`'). */
  readonly budgetWaitMs: number | undefined;
}

export interface LlmClientOptions {
  /** A shared rate window (see `RedisRateWindow`); default a window of this process. */
  window?: RateWindow;
  /** Another chat model than the OpenAI SDK's (tests, other SDKs). */
  model?: ChatModel;
  /** Pacer settings beyond the provider's (retries, backoff, injected clock). */
  pacer?: Omit<LlmPacerSettings, 'window'>;
}

export function createLlmClient(settings: LlmProviderSettings, options: LlmClientOptions = {}): LlmClient {
  checkBaseUrl(settings.baseURL);
  checkHeaderValues(settings);
  checkBudgetWaitMs(settings.budgetWaitMs);
  return {
    model: options.model ?? new LazyOpenAiChatModel(settings),
    pacer: new LlmPacer({
      ...options.pacer,
      ...(settings.maxConcurrency === undefined ? {} : { maxConcurrency: settings.maxConcurrency }),
      ...(settings.requestsPerMinute === undefined ? {} : { requestsPerMinute: settings.requestsPerMinute }),
      ...(settings.tokensPerMinute === undefined ? {} : { tokensPerMinute: settings.tokensPerMinute }),
      ...(options.window === undefined ? {} : { window: options.window }),
    }),
    contextTokens: settings.contextTokens,
    budgetWaitMs: settings.budgetWaitMs,
  };
}

/**
 * `OpenAiChatModel`, its module (and the openai SDK under it, ~0.4 s to load) imported with the
 * first call: every process that builds pipelines creates a client, few of them call a model.
 */
class LazyOpenAiChatModel implements ChatModel {
  readonly info: ProviderInfo;
  readonly #settings: LlmProviderSettings;
  #model: Promise<ChatModel> | undefined;

  constructor(settings: LlmProviderSettings) {
    this.info = { model: settings.model, endpoint: publicEndpoint(settings.baseURL) };
    this.#settings = settings;
  }

  async complete(request: ChatRequest): Promise<ChatAnswer> {
    this.#model ??= import('./client.ts').then(({ OpenAiChatModel }) => new OpenAiChatModel(this.#settings));
    return (await this.#model).complete(request);
  }
}
