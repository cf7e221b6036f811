import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ReamError } from '../errors.ts';
import { fromJson, type JsonValue } from '../json.ts';
import type { LeasedTask } from '../queue/port.ts';
import type { Store } from '../store/port.ts';
import { loadJobView, type JobViewSource } from './job-view.ts';
import type { WebhookPayload } from './task-kinds.ts';
import type { WebhookAddressGuard, WebhookAddressOptions } from './webhook-address.ts';

/**
 * How job webhooks are delivered (`ReamOptions.webhooks`). Where they may go (`allowPrivate`,
 * `lookup`): see {@link WebhookAddressOptions}; by default public unicast addresses only.
 */
export interface WebhookSettings extends WebhookAddressOptions {
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

export const WEBHOOK_DEFAULTS: Required<Omit<WebhookSettings, keyof WebhookAddressOptions>> = { maxAttempts: 12, timeoutMs: 10_000, retryBaseMs: 2_000, retryMaxMs: 600_000 };

/**
 * `Ream-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (Stripe's scheme):
 * the receiver recomputes the HMAC over the raw body and rejects old `t`s to stop replays.
 */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** What a delivery reads: the job, its view, and the engine's webhook settings. */
export interface WebhookDeliveryContext {
  store: Pick<Store, 'getJob'>;
  views: JobViewSource;
  timeoutMs: number;
  guard: WebhookAddressGuard;
}

/**
 * One attempt of a `webhook.deliver` task: POSTs `{ id, event, job: <job view> }` to the job's
 * webhook (`id`, also in the `Ream-Delivery` header, names the delivery), signed at send time (a fresh `t` on every attempt). Returns when the receiver took it
 * (2xx) or there is nothing to send (the job was deleted, or has no webhook). Throws a retryable
 * `io_error` for a network error, a timeout, a 5xx or a 429 (the queue retries it with backoff),
 * and a non-retryable one for any other answer: the receiver refused it, so it is given up. A
 * redirect (3xx) is such an answer: it is never followed, since its target was not checked.
 * A destination the address guard refuses (the name resolves elsewhere since the submit, or the
 * allow-list changed) is a non-retryable `validation_failed`, given up without connecting.
 */
export async function deliverWebhook(context: WebhookDeliveryContext, payload: JsonValue, signal: AbortSignal): Promise<void> {
  const { jobId, event, seq } = fromJson<WebhookPayload>(payload);
  const job = await context.store.getJob(jobId);
  const target = job?.webhook;
  if (!job || !target) return;
  // The same on every attempt of this delivery (a retry, or a repeat after its worker died
  // mid-send), another for the next one (a retried job that ends again): receivers dedupe on it.
  const id = `${jobId}.${seq}`;
  const body = JSON.stringify({ id, event, job: await loadJobView(context.views, job) });
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'ream-webhook/1', 'ream-delivery': id };
  if (target.secret !== undefined) headers['ream-signature'] = signWebhook(target.secret, body, Math.floor(Date.now() / 1000));
  const { timeoutMs, guard } = context;
  const timeout = AbortSignal.timeout(timeoutMs);
  const receiver = new URL(target.url).origin; // not the whole URL: its path or query may hold a token
  let status: number;
  try {
    guard.checkLiteral(target.url); // Node connects to an IP literal without calling the guarded lookup
    status = await post(target.url, headers, body, guard, AbortSignal.any([signal, timeout]));
  } catch (error) {
    if (signal.aborted) throw signal.reason; // the worker stops (or the task was taken away): not a failed attempt
    if (error instanceof ReamError) {
      throw ReamError.nonRetryable(error.code, `webhook of job ${jobId} to ${receiver}: ${error.message}`, { cause: error, details: { receiver } });
    }
    const why = timeout.aborted ? `no answer within ${timeoutMs} ms` : error instanceof Error ? error.message : String(error);
    throw ReamError.retryable('io_error', `webhook of job ${jobId} to ${receiver}: ${why}`, { cause: error, details: { receiver } });
  }
  if (status >= 200 && status < 300) return;
  const message = `webhook of job ${jobId} to ${receiver}: the receiver answered ${status}`;
  if (status === 429 || status >= 500) throw ReamError.retryable('io_error', message, { details: { receiver, status } });
  throw ReamError.nonRetryable('io_error', message, { details: { receiver, status } });
}

/**
 * POSTs `body` and resolves with the answer's status (its body is not read). `http.request`
 * rather than fetch: its `lookup` hook lets the guard check the very addresses the socket
 * connects to. No agent: a connection per attempt, closed after it (deliveries are rare).
 */
function post(url: string, headers: Record<string, string>, body: string, guard: WebhookAddressGuard, signal: AbortSignal): Promise<number> {
  const send = new URL(url).protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const request = send(url, { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, agent: false, lookup: guard.connectLookup(), signal }, (response) => {
      resolve(response.statusCode ?? 0);
      response.destroy();
    });
    request.on('error', reject);
    request.end(body);
  });
}

/** A delivery failed for good: said once, as a process warning. The job and its documents are untouched. */
export function webhookGivenUp(task: LeasedTask, error: ReamError): void {
  const { event, seq } = fromJson<WebhookPayload>(task.payload);
  process.emitWarning(`ream: gave up delivering ${event} (seq ${seq}): ${error.message}`);
}

