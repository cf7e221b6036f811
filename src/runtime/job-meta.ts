import { ReamError } from '../errors.ts';
import type { JsonObject } from '../json.ts';

/**
 * The engine's own bookkeeping on a job lives in its options under this reserved key (users may
 * not set it; views leave it out): the retry generation and the webhook target.
 */
export const RESERVED_OPTION = '_ream';

/** Where to POST the job's terminal event; `secret` signs it (see src/runtime/webhook-delivery.ts). */
export interface WebhookTarget {
  url: string;
  secret?: string;
}

export interface JobMeta {
  /** How many times `retry` has run on the job; tasks of generation n > 0 carry `:r<n>`. */
  retry?: number;
  webhook?: WebhookTarget;
}

export function jobMeta(options: JsonObject): JobMeta {
  const meta = options[RESERVED_OPTION];
  if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return {};
  const result: JobMeta = {};
  if (typeof meta.retry === 'number') result.retry = meta.retry;
  const webhook = meta.webhook;
  if (typeof webhook === 'object' && webhook !== null && !Array.isArray(webhook) && typeof webhook.url === 'string') {
    result.webhook = { url: webhook.url, ...(typeof webhook.secret === 'string' ? { secret: webhook.secret } : {}) };
  }
  return result;
}

export function withJobMeta(options: JsonObject, meta: JobMeta): JsonObject {
  const stored: JsonObject = {};
  if (meta.retry !== undefined) stored.retry = meta.retry;
  if (meta.webhook) stored.webhook = { url: meta.webhook.url, ...(meta.webhook.secret === undefined ? {} : { secret: meta.webhook.secret }) };
  return { ...options, [RESERVED_OPTION]: stored };
}

/** The options as the user gave them: without the reserved key (which may hold a webhook secret). */
export function publicOptions(options: JsonObject): JsonObject {
  if (!Object.hasOwn(options, RESERVED_OPTION)) return options;
  const { [RESERVED_OPTION]: _reserved, ...rest } = options;
  return rest;
}

/** Validates a webhook as given in a job submission: `{ url: http(s) URL, secret?: string }`. */
export function parseWebhook(value: unknown): WebhookTarget {
  const invalid = (message: string): ReamError => ReamError.nonRetryable('validation_failed', message);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid('"webhook" must be an object { url, secret? }');
  const fields = value as Record<string, unknown>;
  const extra = Object.keys(fields).find((name) => name !== 'url' && name !== 'secret');
  if (extra !== undefined) throw invalid(`unknown webhook field "${extra}" (expected url, secret)`);
  const { url, secret } = fields;
  if (typeof url !== 'string' || url.length > 2048 || !URL.canParse(url)) throw invalid('"webhook.url" must be an absolute URL');
  const protocol = new URL(url).protocol;
  if (protocol !== 'http:' && protocol !== 'https:') throw invalid('"webhook.url" must be an http or https URL');
  if (secret !== undefined && (typeof secret !== 'string' || secret.length === 0 || secret.length > 1024)) {
    throw invalid('"webhook.secret" must be a string of 1 to 1024 characters');
  }
  return { url, ...(secret === undefined ? {} : { secret }) };
}
