import type { ChatModel } from './client.ts';
import { OpenAiChatModel } from './client.ts';
import { LlmPacer, type LlmPacerSettings } from './pacer.ts';
import type { RateWindow } from './rate-window.ts';
import type { LlmProviderSettings } from './settings.ts';

/**
 * A model with its pacing: create one per process and share it between analyzers (and jobs),
 * so the concurrency limit and the rate window see every call.
 */
export interface LlmClient {
  readonly model: ChatModel;
  readonly pacer: LlmPacer;
  /** Prompt size the model takes, in tokens (chunks are split before they exceed it). */
  readonly contextTokens: number | undefined;
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
  return {
    model: options.model ?? new OpenAiChatModel(settings),
    pacer: new LlmPacer({
      ...options.pacer,
      ...(settings.maxConcurrency === undefined ? {} : { maxConcurrency: settings.maxConcurrency }),
      ...(settings.requestsPerMinute === undefined ? {} : { requestsPerMinute: settings.requestsPerMinute }),
      ...(settings.tokensPerMinute === undefined ? {} : { tokensPerMinute: settings.tokensPerMinute }),
      ...(options.window === undefined ? {} : { window: options.window }),
    }),
    contextTokens: settings.contextTokens,
  };
}
