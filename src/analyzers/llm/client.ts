import OpenAI from 'openai';
import type { ChatCompletionCreateParamsBase } from 'openai/resources/chat/completions/completions';
import { ReamError } from '../../errors.ts';
import type { JsonObject } from '../../json.ts';
import { isJsonSchemaUnsupported, toLlmError } from './errors.ts';
import { estimateTokens } from './prompts.ts';
import { publicEndpoint, type LlmProviderSettings, type ProviderInfo } from './settings.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** What shape of answer to ask for. */
export type AnswerFormat = { kind: 'json'; name: string; schema: JsonObject } | { kind: 'text' };

export interface ChatRequest {
  model: string;
  messages: readonly ChatMessage[];
  format: AnswerFormat;
  temperature?: number;
  /** Most tokens of answer (`max_tokens`). */
  maxCompletionTokens?: number;
  signal: AbortSignal;
}

export interface ChatAnswer {
  text: string;
  promptTokens: number;
  completionTokens: number;
  /** `stop`, `length`, `content_filter`, … as the provider said. */
  finishReason: string | null;
}

/** A chat model: one call, mapped errors. The seam tests and other SDKs plug into. */
export interface ChatModel {
  readonly info: ProviderInfo;
  complete(request: ChatRequest): Promise<ChatAnswer>;
}

/**
 * A chat model over the official `openai` SDK. The SDK's own retries are off: the caller paces
 * and retries (it knows Retry-After and the shared budget). A refusal or a content filter is
 * `llm_refused`; SDK errors are mapped by `toLlmError`.
 */
export class OpenAiChatModel implements ChatModel {
  readonly info: ProviderInfo;
  readonly #client: OpenAI;
  readonly #stream: boolean;
  readonly #secrets: string[];
  readonly #structured: 'json_schema' | 'json_object';
  readonly #timeoutMs: number;

  constructor(settings: LlmProviderSettings) {
    this.info = { model: settings.model, endpoint: publicEndpoint(settings.baseURL) };
    this.#client = new OpenAI({
      apiKey: settings.apiKey ?? 'unused',
      ...(settings.baseURL === undefined ? {} : { baseURL: settings.baseURL }),
      ...(settings.organization === undefined ? {} : { organization: settings.organization }),
      ...(settings.headers === undefined ? {} : { defaultHeaders: settings.headers }),
      timeout: settings.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxRetries: 0,
    });
    this.#timeoutMs = settings.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#stream = settings.stream ?? false;
    this.#structured = settings.structuredOutput ?? 'json_schema';
    this.#secrets = [settings.apiKey ?? '', ...Object.values(settings.headers ?? {})].filter((s) => s !== '');
  }

  async complete(request: ChatRequest): Promise<ChatAnswer> {
    try {
      return await this.#timed(request, this.#structured);
    } catch (error) {
      // This request again in JSON mode; nothing is remembered for the next ones, which may be
      // another tenant's (set `structuredOutput: json_object` for a server that never has it).
      if (this.#structured === 'json_schema' && request.format.kind === 'json' && isJsonSchemaUnsupported(error)) {
        try {
          return await this.#timed(request, 'json_object');
        } catch (again) {
          throw toLlmError(again, this.#secrets, request.signal);
        }
      }
      throw toLlmError(error, this.#secrets, request.signal);
    }
  }

  /**
   * The call within the time limit from its start to its last byte: the SDK's own timeout ends
   * at the answer's headers, so a stream that stalled after them held its caller forever.
   */
  async #timed(request: ChatRequest, structured: 'json_schema' | 'json_object'): Promise<ChatAnswer> {
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const late = (): ReamError => ReamError.retryable('llm_unavailable', `the model provider did not answer in time (${this.#timeoutMs} ms)`);
    let answer: ChatAnswer;
    try {
      answer = await this.#call({ ...request, signal: AbortSignal.any([request.signal, timeout]) }, structured);
    } catch (error) {
      if (timeout.aborted && !request.signal.aborted) throw late();
      throw error;
    }
    // An aborted stream may just end: what came before the time limit is no whole answer.
    if (timeout.aborted && !request.signal.aborted) throw late();
    return answer;
  }

  async #call(request: ChatRequest, structured: 'json_schema' | 'json_object'): Promise<ChatAnswer> {
    const params: ChatCompletionCreateParamsBase = {
      model: request.model,
      messages: request.messages.map((m) => ({ role: m.role, content: m.content })),
      ...(request.temperature === undefined ? {} : { temperature: request.temperature }),
      ...(request.maxCompletionTokens === undefined ? {} : { max_tokens: request.maxCompletionTokens }),
    };
    if (request.format.kind === 'json') {
      params.response_format = structured === 'json_schema'
        ? { type: 'json_schema', json_schema: { name: request.format.name, schema: request.format.schema, strict: false } }
        : { type: 'json_object' };
    }
    const options = { signal: request.signal };
    if (!this.#stream) {
      const completion = await this.#client.chat.completions.create({ ...params, stream: false }, options);
      const choice = completion.choices[0];
      if (!choice) throw ReamError.retryable('llm_unavailable', 'the model provider answered with no choice');
      const text = choice.message.content ?? '';
      refusalCheck(choice.message.refusal ?? null, choice.finish_reason, {
        promptTokens: completion.usage?.prompt_tokens ?? estimatedTokens(params.messages),
        completionTokens: completion.usage?.completion_tokens ?? estimatedTokens(text),
      });
      return {
        text,
        promptTokens: completion.usage?.prompt_tokens ?? estimatedTokens(params.messages),
        completionTokens: completion.usage?.completion_tokens ?? estimatedTokens(text),
        finishReason: choice.finish_reason,
      };
    }
    const stream = await this.#client.chat.completions.create({ ...params, stream: true, stream_options: { include_usage: true } }, options);
    let text = '';
    let refusal = '';
    let finishReason: string | null = null;
    let promptTokens: number | undefined;
    let completionTokens: number | undefined;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (choice) {
        text += choice.delta.content ?? '';
        refusal += choice.delta.refusal ?? '';
        finishReason = choice.finish_reason ?? finishReason;
      }
      if (chunk.usage) {
        promptTokens = chunk.usage.prompt_tokens;
        completionTokens = chunk.usage.completion_tokens;
      }
    }
    const used = { promptTokens: promptTokens ?? estimatedTokens(params.messages), completionTokens: completionTokens ?? estimatedTokens(text) };
    refusalCheck(refusal === '' ? null : refusal, finishReason, used);
    return { text, ...used, finishReason };
  }
}

const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * A server that sends no `usage` (some local servers, some streams) still spends tokens: counted
 * as estimated (`estimateTokens`), so that budgets, credits and accounting do not take it for free.
 */
function estimatedTokens(content: string | ChatCompletionCreateParamsBase['messages']): number {
  const text = typeof content === 'string' ? content : content.map((message) => (typeof message.content === 'string' ? message.content : JSON.stringify(message.content ?? ''))).join('\n');
  return estimateTokens(text);
}

/** A refusal costs what the call used: `details.usage` says it, for the caller to count (a refusal is billed too). */
function refusalCheck(refusal: string | null, finishReason: string | null, usage: { promptTokens: number; completionTokens: number }): void {
  const details = { usage };
  if (refusal !== null && refusal !== '') throw ReamError.nonRetryable('llm_refused', `the model refused: ${refusal.slice(0, 500)}`, { details });
  if (finishReason === 'content_filter') throw ReamError.nonRetryable('llm_refused', 'the provider\'s content filter stopped the answer', { details });
}
