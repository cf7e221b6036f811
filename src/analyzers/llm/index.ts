export { createLlmAnalyzer, type LlmAnalyzerOptions } from './analyzer.ts';
export { createLlmClient, type LlmClient, type LlmClientOptions } from './llm-client.ts';
export { OpenAiChatModel, type ChatModel, type ChatRequest, type ChatAnswer } from './client.ts';
export { LlmPacer, type LlmPacerSettings } from './pacer.ts';
export { LocalRateWindow, type RateWindow, type RateLimits } from './rate-window.ts';
export { llmSettingsFromEnv, publicEndpoint, type LlmProviderSettings } from './settings.ts';
export { parseLlmSpec, LLM_MODES, type LlmSpec, type LlmMode } from './spec.ts';
export { costOf, type PriceTable } from './usage.ts';
