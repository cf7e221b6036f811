import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';
import { ReamError } from '../../errors.ts';

/** Messages providers use when a prompt is longer than the model's context window. */
const CONTEXT_TOO_LONG = /context[ _]length|context window|maximum context|too many tokens|prompt is too long|exceeds the (?:model's )?(?:maximum|context)|available context|exceed_context_size|input is too long/i;

/**
 * Messages of a server that does not know `response_format: json_schema` (a word for "not
 * supported" near the name). "Invalid schema for response_format" is about the job's schema, not
 * the server: it is no reason to answer in JSON mode.
 */
const NO_JSON_SCHEMA = /(?:unsupported|not supported|unknown|unrecognized|not recognized|not allowed|must be one of|is not one of|not implemented)[^.]{0,80}(?:response_format|json_schema)|(?:response_format|json_schema)[^.]{0,80}(?:unsupported|not supported|unknown|unrecognized|not recognized|not allowed|must be one of|is not one of|not implemented)/i;

/** Messages of a provider refusing the answer's JSON schema (OpenAI: "Invalid schema for response_format 'x': In context=(…), …"). */
const SCHEMA_REFUSED = /invalid (?:json )?schema|schema[^.]{0,80}(?:is not permitted|not supported|is required to be)/i;

/**
 * Retry-After as ms: `retry-after-ms` (OpenAI's own), `retry-after` in seconds or as an HTTP
 * date. `undefined` when absent or unreadable.
 */
export function retryAfterMs(headers: Headers | undefined, now: number = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms') ?? Number.NaN);
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const raw = headers.get('retry-after');
  if (raw === null) return undefined;
  const seconds = Number(raw);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(raw);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * True for a 400 that says the server does not support JSON-schema structured output; not one
 * refusing the schema itself ("Invalid schema …: 'patternProperties' is not supported").
 */
export function isJsonSchemaUnsupported(error: unknown): boolean {
  return error instanceof APIError && error.status === 400 && NO_JSON_SCHEMA.test(error.message) && !CONTEXT_TOO_LONG.test(error.message) && !/invalid (?:json )?schema/i.test(error.message);
}

/**
 * Maps what the openai SDK throws to ream's codes. The SDK's error is not kept as `cause`: it
 * holds the provider's raw answer, and `secrets` (the API key, header values) are scrubbed from
 * every message, so nothing secret reaches a result, an event or a log.
 */
export function toLlmError(error: unknown, secrets: readonly string[], signal?: AbortSignal): ReamError {
  if (error instanceof ReamError) return error;
  if (error instanceof APIUserAbortError || signal?.aborted) {
    return new ReamError('cancelled', 'the model call was cancelled');
  }
  const scrub = (message: string): string => secrets.reduce((text, secret) => (secret.length >= 4 ? text.split(secret).join('***') : text), message);
  if (error instanceof APIConnectionTimeoutError) return ReamError.retryable('llm_unavailable', 'the model provider did not answer in time');
  if (error instanceof APIConnectionError) return ReamError.retryable('llm_unavailable', `the model provider cannot be reached: ${scrub(error.message)}`);
  if (error instanceof APIError) {
    // APIError's type parameters default to `any`; these are what the SDK sets for HTTP answers.
    const typed = error as APIError<number | undefined, Headers | undefined>;
    const status = typed.status;
    const message = scrub(typed.message);
    const after = retryAfterMs(typed.headers);
    const details = { status };
    if (status === 429) {
      return new ReamError('llm_rate_limited', `the model provider throttled the call: ${message}`, { details, ...(after === undefined ? {} : { retryAfterMs: after }) });
    }
    if (status === undefined || status >= 500 || status === 408) {
      return new ReamError('llm_unavailable', `the model provider failed: ${message}`, { details, ...(after === undefined ? {} : { retryAfterMs: after }) });
    }
    if (CONTEXT_TOO_LONG.test(error.message) || error.code === 'context_length_exceeded') {
      return ReamError.nonRetryable('llm_context_too_long', `the prompt is longer than the model takes: ${message}`, { details });
    }
    if (status === 400 && SCHEMA_REFUSED.test(error.message)) {
      return ReamError.nonRetryable('analyzer_failed', `the model provider refused the answer's JSON schema (built from option "schema" in extract mode; simplify it for this provider, or set structuredOutput json_object): ${message}`, {
        details: { ...details, reason: 'schema_refused' },
      });
    }
    if (status === 401 || status === 403) {
      return ReamError.nonRetryable('analyzer_failed', `the model provider refused the credentials (${status})`, { details });
    }
    return ReamError.nonRetryable('analyzer_failed', `the model provider refused the request: ${message}`, { details });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ReamError('llm_unavailable', `the model call failed: ${scrub(message)}`);
}
