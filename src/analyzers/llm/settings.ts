import { ReamError } from '../../errors.ts';
import { parsePriceTable } from './usage.ts';

/**
 * How to reach a model: anything that speaks the OpenAI chat-completions wire protocol (OpenAI,
 * Azure OpenAI, Gemini's OpenAI-compatible endpoint, Ollama, vLLM, llama.cpp server, LM Studio).
 * Holds the API key: it lives in the process (environment, flags, `createReam` options) and is
 * never copied into job options, results, events or errors.
 */
export interface LlmProviderSettings {
  /** E.g. `https://api.openai.com/v1`, `http://127.0.0.1:11434/v1` (Ollama). Default OpenAI's. */
  baseURL?: string;
  /** Secret. Local servers take any value; default `unused` (the SDK wants one). */
  apiKey?: string;
  /** The model used when a job names none. */
  model: string;
  organization?: string;
  /** Extra request headers (Azure's `api-key`, a gateway's own). Secret too: never reported. */
  headers?: Record<string, string>;
  /** Longest one call may take, in ms. Default 120,000. */
  timeoutMs?: number;
  /** Ask for streamed answers (server-sent events); the answer is used once complete. Default false. */
  stream?: boolean;
  /**
   * `json_schema` (default) asks for the provider's structured output; `json_object` for JSON
   * mode only (servers without schema support). Answers are validated either way, and a server
   * that refuses `json_schema` is asked again in JSON mode.
   */
  structuredOutput?: 'json_schema' | 'json_object';
  /** Pacing (see `LlmPacerSettings`): calls and tokens per minute, and the most calls in flight. */
  requestsPerMinute?: number;
  tokensPerMinute?: number;
  maxConcurrency?: number;
  /** Prompt size the model takes, in tokens; bigger chunks are split before they are sent. */
  contextTokens?: number;
  /** USD per million tokens by model, to report a cost next to the tokens. */
  prices?: Record<string, { prompt: number; completion: number }>;
  /**
   * Longest wait, in ms, of a call refused because other workers' calls of its job hold the rest
   * of its token budget, before it goes back to the queue (a retryable `budget_exceeded`). A whole
   * number from 0 to 600,000 (the lease of a reservation); default 60,000.
   */
  budgetWaitMs?: number;
}

/** The most a call waits for room in its job's budget: past a reservation's lease, what holds it has lapsed. */
export const MAX_BUDGET_WAIT_MS = 600_000;

/** Refuses a `budgetWaitMs` that is not a whole number of ms from 0 to {@link MAX_BUDGET_WAIT_MS}, naming the setting. */
export function checkBudgetWaitMs(value: unknown, name = 'the LLM budget wait (budgetWaitMs)'): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_BUDGET_WAIT_MS) {
    throw ReamError.nonRetryable('validation_failed', `${name} must be a whole number of milliseconds from 0 to ${MAX_BUDGET_WAIT_MS}, not ${shown(value)}`, {
      details: { setting: name, max: MAX_BUDGET_WAIT_MS },
    });
  }
}

/** A setting's value in a message: JSON, but a number as itself (JSON shows NaN and Infinity as null). */
function shown(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value);
}

/** What may be shown of a provider: the model and the base URL without credentials. */
export interface ProviderInfo {
  model: string;
  endpoint: string;
}

export const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/**
 * Refuses a base URL no call could use, before any call: not http(s), or with user info (fetch
 * refuses credentials in a URL; each call would fail as a retryable connection error).
 */
export function checkBaseUrl(baseURL: string | undefined): void {
  if (baseURL === undefined) return;
  const url = URL.parse(baseURL);
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) throw ReamError.nonRetryable('validation_failed', 'the LLM base URL must be an http(s) URL');
  if (url.username !== '' || url.password !== '') {
    throw ReamError.nonRetryable('validation_failed', 'the LLM base URL must not hold a user name or password: give the key as the API key (REAM_LLM_API_KEY), or a header');
  }
}

/**
 * Refuses an API key, organization or header value that no call could send: HTTP header values
 * are bytes (Latin-1) without line breaks, so a key pasted with a placeholder's `…` or a
 * trailing newline would fail every call as a retryable connection error, after minutes of
 * retries. Names the setting and the character, never the value.
 */
export function checkHeaderValues(settings: Pick<LlmProviderSettings, 'apiKey' | 'organization' | 'headers'>): void {
  const values: Array<[string, string | undefined]> = [
    ['the LLM API key (REAM_LLM_API_KEY, apiKey)', settings.apiKey],
    ['the LLM organization (REAM_LLM_ORGANIZATION, organization)', settings.organization],
    ...Object.entries(settings.headers ?? {}).map(([name, value]): [string, string] => [`the LLM header ${JSON.stringify(name)}`, value]),
  ];
  for (const [what, value] of values) {
    const bad = value === undefined ? undefined : [...value].find((c) => (c.codePointAt(0) ?? 0) > 0xff || c === '\r' || c === '\n' || c === '\0');
    if (bad === undefined) continue;
    const code = `U+${(bad.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
    throw ReamError.nonRetryable('validation_failed', `${what} holds ${code}, which an HTTP header cannot carry: give the key itself (a local server takes any value, e.g. "unused")`);
  }
}

/** The base URL without user info, query or fragment (where credentials sometimes hide). */
export function publicEndpoint(baseURL: string | undefined): string {
  try {
    const url = new URL(baseURL ?? DEFAULT_BASE_URL);
    url.username = '';
    url.password = '';
    url.search = '';
    url.hash = '';
    return url.toString().replace(/\/$/, '');
  } catch {
    throw ReamError.nonRetryable('validation_failed', 'the LLM base URL is not a valid URL');
  }
}

function numberFrom(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw ReamError.nonRetryable('validation_failed', `${name} must be a positive number`);
  return value;
}

/**
 * Provider settings from `REAM_LLM_*`: BASE_URL, API_KEY, MODEL, ORGANIZATION, TIMEOUT_MS,
 * STREAM (1/true), STRUCTURED_OUTPUT, RPM, TPM, CONCURRENCY, CONTEXT_TOKENS, PRICES (JSON), BUDGET_WAIT_MS. `undefined` when no
 * model is named: the `llm` pipeline then refuses jobs saying what to set.
 */
export function llmSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): LlmProviderSettings | undefined {
  const model = env.REAM_LLM_MODEL;
  if (model === undefined || model === '') return undefined;
  const structured = env.REAM_LLM_STRUCTURED_OUTPUT;
  if (structured !== undefined && structured !== 'json_schema' && structured !== 'json_object') {
    throw ReamError.nonRetryable('validation_failed', 'REAM_LLM_STRUCTURED_OUTPUT must be json_schema or json_object');
  }
  const settings: LlmProviderSettings = { model };
  const set = <K extends keyof LlmProviderSettings>(key: K, value: LlmProviderSettings[K] | undefined): void => {
    if (value !== undefined && value !== '') settings[key] = value;
  };
  set('baseURL', env.REAM_LLM_BASE_URL);
  // A key read from a file or a secret store often ends in a newline: never part of the key.
  set('apiKey', env.REAM_LLM_API_KEY?.trim());
  set('organization', env.REAM_LLM_ORGANIZATION?.trim());
  set('timeoutMs', numberFrom(env, 'REAM_LLM_TIMEOUT_MS'));
  set('stream', env.REAM_LLM_STREAM === undefined ? undefined : ['1', 'true'].includes(env.REAM_LLM_STREAM));
  set('structuredOutput', structured);
  set('requestsPerMinute', numberFrom(env, 'REAM_LLM_RPM'));
  set('tokensPerMinute', numberFrom(env, 'REAM_LLM_TPM'));
  set('maxConcurrency', numberFrom(env, 'REAM_LLM_CONCURRENCY'));
  set('contextTokens', numberFrom(env, 'REAM_LLM_CONTEXT_TOKENS'));
  const wait = env.REAM_LLM_BUDGET_WAIT_MS;
  if (wait !== undefined && wait !== '') {
    // Number('') and Number(' ') are 0: only digits are a number of milliseconds here.
    const ms = /^\s*\d+\s*$/.test(wait) ? Number(wait) : Number.NaN;
    checkBudgetWaitMs(Number.isNaN(ms) ? wait : ms, 'REAM_LLM_BUDGET_WAIT_MS');
    settings.budgetWaitMs = ms;
  }
  const prices = env.REAM_LLM_PRICES;
  if (prices !== undefined && prices !== '') settings.prices = parsePriceTable(prices, 'REAM_LLM_PRICES');
  return settings;
}
