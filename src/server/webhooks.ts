import { createHmac } from 'node:crypto';
import { backoffDelay, type BackoffPolicy } from '../batch/backoff.ts';
import type { ReamEvent } from '../events/types.ts';
import type { Ream } from '../runtime/create-ream.ts';
import { jobMeta, type WebhookTarget } from '../runtime/job-meta.ts';
import { loadJobView } from './views.ts';

const TERMINAL_EVENTS = new Set<ReamEvent['type']>(['job.completed', 'job.failed', 'job.cancelled']);

export interface WebhookSenderOptions {
  /** Attempts per delivery, including the first. Default 5. */
  maxAttempts?: number;
  /** Backoff between attempts (full jitter). Default 1 s doubling, capped at 60 s. */
  backoff?: BackoffPolicy;
  /** Per attempt, in ms. Default 10,000. */
  timeoutMs?: number;
  /** Called when a delivery is given up (after its last attempt, or a 4xx other than 429). */
  onGiveUp?: (jobId: string, url: string, reason: string) => void;
  /**
   * Every server instance sees every terminal event; only the one that claims it first sends
   * the webhook (see `Coordination.claimOnce`). Default: every event is this sender's.
   */
  claimOnce?: (key: string, ttlMs: number) => Promise<boolean>;
}

const CLAIM_TTL_MS = 24 * 3600_000;

/**
 * `Ream-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (Stripe's scheme):
 * the receiver recomputes the HMAC over the raw body and rejects old `t`s to stop replays.
 */
export function signWebhook(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/**
 * POSTs `{ event, job }` to a job's webhook when the job ends (`job.completed`, `job.failed`,
 * `job.cancelled`), retrying network errors, 5xx and 429 with exponential backoff and jitter.
 *
 * Best effort: deliveries in flight (or waiting for their next attempt) are lost if the process
 * crashes or stops. Durable delivery (an outbox in the store) is later work. Several instances
 * of a deployment send each webhook once (the first to claim it).
 */
export class WebhookSender {
  readonly #ream: Ream;
  readonly #maxAttempts: number;
  readonly #backoff: BackoffPolicy;
  readonly #timeoutMs: number;
  readonly #onGiveUp: WebhookSenderOptions['onGiveUp'];
  readonly #claimOnce: NonNullable<WebhookSenderOptions['claimOnce']>;
  readonly #stop = new AbortController();
  readonly #inFlight = new Set<Promise<void>>();
  #unsubscribe: (() => void) | undefined;

  constructor(ream: Ream, options: WebhookSenderOptions = {}) {
    this.#ream = ream;
    this.#maxAttempts = options.maxAttempts ?? 5;
    this.#backoff = options.backoff ?? { baseDelayMs: 1_000, maxDelayMs: 60_000, factor: 2 };
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#onGiveUp = options.onGiveUp;
    this.#claimOnce = options.claimOnce ?? (() => Promise.resolve(true));
  }

  start(): void {
    this.#unsubscribe ??= this.#ream.subscribe({}, (event) => {
      if (!TERMINAL_EVENTS.has(event.type)) return;
      const delivery = this.#deliver(event).catch((error: unknown) => {
        this.#onGiveUp?.(event.jobId, '', error instanceof Error ? error.message : String(error));
      });
      this.#inFlight.add(delivery);
      void delivery.finally(() => this.#inFlight.delete(delivery));
    });
  }

  /** Stops taking events and abandons pending retries (their deliveries are lost, as on a crash). */
  async stop(): Promise<void> {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#stop.abort();
    await Promise.allSettled([...this.#inFlight]);
  }

  async #deliver(event: ReamEvent): Promise<void> {
    const job = await this.#ream.getJob(event.jobId);
    const target = job && jobMeta(job.options).webhook;
    if (!job || !target) return; // no webhook, or deleted meanwhile
    if (!(await this.#claimOnce(`webhook:${event.jobId}:${event.seq}`, CLAIM_TTL_MS))) return; // another instance sends it
    const body = JSON.stringify({ event: event.type, job: await loadJobView(this.#ream, job) });
    for (let attempt = 1; ; attempt++) {
      if (this.#stop.signal.aborted) return;
      const outcome = await this.#attempt(target, body);
      if (outcome === 'done') return;
      if (outcome !== 'retry' || attempt >= this.#maxAttempts) {
        this.#onGiveUp?.(job.id, target.url, outcome === 'retry' ? `no success after ${attempt} attempts` : outcome);
        return;
      }
      await sleep(backoffDelay(attempt, this.#backoff), this.#stop.signal);
    }
  }

  /** `'done'`, `'retry'`, or why the receiver refused for good. */
  async #attempt(target: WebhookTarget, body: string): Promise<string> {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'ream-webhook/1' };
    if (target.secret !== undefined) headers['ream-signature'] = signWebhook(target.secret, body, Math.floor(Date.now() / 1000));
    try {
      const response = await fetch(target.url, {
        method: 'POST',
        headers,
        body,
        redirect: 'manual',
        signal: AbortSignal.any([this.#stop.signal, AbortSignal.timeout(this.#timeoutMs)]),
      });
      await response.body?.cancel();
      if (response.status >= 200 && response.status < 300) return 'done';
      if (response.status === 429 || response.status >= 500) return 'retry';
      return `the receiver answered ${response.status}`;
    } catch {
      return 'retry'; // network error or timeout
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
