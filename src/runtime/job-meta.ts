import { ReamError } from '../errors.ts';
import type { WebhookTarget } from '../store/port.ts';

// A job's webhook as submitted. The engine keeps it in the job's own columns (JobRecord.webhook).
export type { WebhookTarget } from '../store/port.ts';

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
