// The library's public surface. Anything not exported here is internal and may change.
export * from './batch/index.ts';
export { ReamError, ERROR_CODES, toReamError, type ErrorCode, type ErrorInfo, type ReamErrorOptions } from './errors.ts';
export {
  createReam,
  type JobFile,
  type NamedSearchHit,
  type Ream,
  type ReamOptions,
  type StoreDocumentOptions,
  type SubmitInput,
  type SubmitJobInput,
  type SubmittedJob,
  type WaitOptions,
} from './runtime/create-ream.ts';
export type { CreateJobInput, FileInput, AddedDocument } from './runtime/engine.ts';
export type { JobLimits } from './runtime/job-limits.ts';
export { signWebhook, type WebhookSettings } from './runtime/webhook-delivery.ts';
export { rulesAnalyzer, parseRuleSpecs, type RuleSpec } from './analyzers/rules/index.ts';
export type { Analyzer, AnalyzeContext, AnalysisResult, ChunkAnalysis, ChunkScope, FieldMatch, Fields, TokenUsage } from './analyzers/port.ts';
export {
  createLlmAnalyzer,
  createLlmClient,
  llmSettingsFromEnv,
  parseLlmSpec,
  costOf,
  LlmPacer,
  LocalRateWindow,
  LLM_MODES,
  OpenAiChatModel,
  type ChatModel,
  type LlmAnalyzerOptions,
  type LlmClient,
  type LlmMode,
  type LlmProviderSettings,
  type LlmSpec,
  type PriceTable,
  type RateWindow,
} from './analyzers/llm/index.ts';
export { RedisRateWindow } from './analyzers/llm/redis-rate-window.ts';
export type { AnalysisStore, ModelUsage } from './analyzers/store/port.ts';
export type { UsageView } from './api-types.ts';
export { compileTemplate, type ReportTemplate, type TemplateData } from './reports/template/compile.ts';
export type { SandboxOptions } from './reports/template/sandbox.ts';
export { reportsAnalyzer, type ReportSpec } from './reports/reports-analyzer.ts';
export { reportSpec, REPORT_OPTIONS } from './reports/report-options.ts';
export { PdfRenderer, type PdfRendererOptions } from './reports/pdf/pdf-renderer.ts';
export { pdfOptions, PAGE_SIZES, type PdfOptions } from './reports/pdf/pdf-options.ts';
export { chromiumPath } from './reports/pdf/chromium-path.ts';
export type { Artifact } from './reports/artifacts.ts';
export { llmPipeline } from './pipeline/llm-pipeline.ts';
export { builtinPipelines, DEFAULT_CHUNK_PAGES, DEFAULT_LIMITS } from './pipeline/builtin.ts';
export { STAGES, type DocumentOutput, type Pipeline, type PipelineFactory, type StageName } from './pipeline/types.ts';
export type { DocumentMetadata, PageFailure, PageText, ReadLimits } from './formats/types.ts';
export type { EventType, Progress, ReamEvent, ChunkRef } from './events/types.ts';
export { EVENT_TYPES } from './events/types.ts';
export type { JobRecord, JobStatus, DocumentStatus, JobCounts } from './store/port.ts';
export type { TaskQueue, NewTask, LeasedTask } from './queue/port.ts';
export type { Store } from './store/port.ts';
export type { CreditEntry, CreditKind, TenantQuotas } from './store/port.ts';
export type { CreditPrices, CreditSettings, TenantAccount, TenantAccounts } from './runtime/ream.ts';
export type { BlobStore } from './blobs/port.ts';
export type { EventBus } from './events/port.ts';
export type { SearchIndex, SearchHit, SearchFilters, IndexedResult } from './search/port.ts';
export type { JsonValue, JsonObject } from './json.ts';
export type { Tracing } from './tracing/start-tracing.ts';

/**
 * Registers an OpenTelemetry SDK for ream's spans (see src/tracing/start-tracing.ts): by default
 * OTLP over HTTP as the OTEL_* variables say, and nothing at all when they ask for no traces.
 * Loads the SDK only when called.
 */
export async function startTracing(...args: Parameters<typeof import('./tracing/start-tracing.ts').startTracing>): ReturnType<typeof import('./tracing/start-tracing.ts').startTracing> {
  return (await import('./tracing/start-tracing.ts')).startTracing(...args);
}
