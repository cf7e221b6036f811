import { createHmac } from 'node:crypto';
import { ReamError } from '../errors.ts';
import { fromJson, type JsonValue } from '../json.ts';
import type { LeasedTask } from '../queue/port.ts';
import type { Engine } from './engine.ts';
import { jobMeta } from './job-meta.ts';
import { loadJobView } from './job-view.ts';
import type { WebhookPayload } from './task-kinds.ts';

/** How job webhooks are delivered (`ReamOptions.webhooks`). */
export interface WebhookSettings {
  /**
   * Attempts per delivery, including the first. Default 12: with the default backoff the eleven
   * waits are at most 2 + 4 + … + 512 + 600 + 600 s (about 37 minutes; full jitter makes it
   * half on average). Raise it for receivers that may be down longer.
   */
  maxAttempts?: number;
  /** Longest wait for the receiver's answer, per attempt, in ms. Default 10,000. */
  timeoutMs?: number;
  /**
   * Delay before the next attempt: exponential from `retryBaseMs`, capped at `retryMaxMs`, with
   * full jitter. Defaults 2,000 and 600,000: longer than for document tasks, since a receiver
   * that is down for minutes (a deploy, an outage) is common.
   */
  retryBaseMs?: number;
  retryMaxMs?: number;
}

export const WEBHOOK_DEFAULTS: Required<WebhookSettings> = { maxAttempts: 12, timeoutMs: 10_000, retryBaseMs: 2_000, retryMaxMs: 600_000 };

/**
 * `Ream-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (Stripe's scheme):
 * the receiver recomputes the HMAC over the raw body and rejects old `t`s to stop replays.
 */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * One attempt of a `webhook.deliver` task: POSTs `{ event, job: <job view> }` to the job's
 * webhook, signed at send time (a fresh `t` on every attempt). Returns when the receiver took it
 * (2xx) or there is nothing to send (the job was deleted, or has no webhook). Throws a retryable
 * `io_error` for a network error, a timeout, a 5xx or a 429 (the queue retries it with backoff),
 * and a non-retryable one for any other answer: the receiver refused it, so it is given up.
 */
export async function deliverWebhook(engine: Engine, payload: JsonValue, signal: AbortSignal): Promise<void> {
  const { jobId, event } = fromJson<WebhookPayload>(payload);
  const job = await engine.deps.store.getJob(jobId);
  const target = job && jobMeta(job.options).webhook;
  if (!job || !target) return;
  const body = JSON.stringify({ event, job: await loadJobView(engine, job) });
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'ream-webhook/1' };
  if (target.secret !== undefined) headers['ream-signature'] = signWebhook(target.secret, body, Math.floor(Date.now() / 1000));
  const timeoutMs = engine.settings.webhookTimeoutMs;
  const timeout = AbortSignal.timeout(timeoutMs);
  const receiver = new URL(target.url).origin; // not the whole URL: its path or query may hold a token
  let response: Response;
  try {
    response = await fetch(target.url, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.any([signal, timeout]) });
  } catch (error) {
    if (signal.aborted) throw signal.reason; // the worker stops (or the task was taken away): not a failed attempt
    const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : reasonOf(error);
    throw ReamError.retryable('io_error', `webhook of job ${jobId} to ${receiver}: ${why}`, { cause: error, details: { receiver } });
  }
  await response.body?.cancel();
  const { status } = response;
  if (status >= 200 && status < 300) return;
  const message = `webhook of job ${jobId} to ${receiver}: the receiver answered ${status}`;
  if (status === 429 || status >= 500) throw ReamError.retryable('io_error', message, { details: { receiver, status } });
  throw ReamError.nonRetryable('io_error', message, { details: { receiver, status } });
}

/** A delivery failed for good: said once, as a process warning. The job and its documents are untouched. */
export function webhookGivenUp(task: LeasedTask, error: ReamError): void {
  const { event, seq } = fromJson<WebhookPayload>(task.payload);
  process.emitWarning(`ream: gave up delivering ${event} (seq ${seq}): ${error.message}`);
}

/** A fetch failure's cause ("connect ECONNREFUSED …") says more than its own "fetch failed". */
function reasonOf(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (cause instanceof Error) return cause.message;
  return error instanceof Error ? error.message : String(error);
}
