import { ReamError } from '../../errors.ts';
import { PRIORITIES } from '../../api-types.ts';
import { containsNul, type JsonObject } from '../../json.ts';
import type { PipelineRegistry } from '../../pipeline/registry.ts';
import type { Pipeline } from '../../pipeline/types.ts';
import type { WebhookTarget } from '../../store/port.ts';
import { limitJob, type JobLimits } from '../job-limits.ts';
import { parseWebhook } from '../job-meta.ts';
import type { WebhookAddressGuard } from '../webhook-address.ts';

export interface CreateJobInput {
  pipeline?: string;
  options?: JsonObject;
  /** Idempotency key: a second create with the same key (and tenant) returns the first job. */
  key?: string;
  tenantId?: string;
  /** Higher runs first. Default `PRIORITIES.normal` (5). */
  priority?: number;
  /** The submitter is an admin: `jobLimits.maxPriority` does not apply. */
  admin?: boolean;
  /** POSTed the job's terminal events (a `webhook.deliver` task, durable and retried). http(s) only. */
  webhook?: WebhookTarget;
}

/**
 * Where the engine kept its own state in a job's options before it had columns (jobs/0002). Still
 * refused as a user option: during a rolling upgrade an older process would read it as engine
 * state (a webhook, a retry generation) that the user has no business setting.
 */
const LEGACY_ENGINE_OPTION = '_ream';

/** A job as it will be stored: its options (with the limits' values written in) and its webhook. */
export interface CheckedJob {
  options: JsonObject;
  webhook: WebhookTarget | null;
}

/** Checks what a job asks for against the pipelines, the job limits and the webhook guard. */
export class JobInputCheck {
  readonly #pipelines: PipelineRegistry;
  readonly #limits: JobLimits;
  readonly #guard: WebhookAddressGuard;

  constructor(pipelines: PipelineRegistry, limits: JobLimits, guard: WebhookAddressGuard) {
    this.#pipelines = pipelines;
    this.#limits = limits;
    this.#guard = guard;
  }

  /**
   * Refuses (`validation_failed`) an unknown pipeline, bad options, options or a priority past the
   * job limits, a bad webhook — without creating anything. A webhook to a refused IP literal is
   * refused here; one to a host name only by {@link check}, which resolves it.
   */
  checkSync(input: CreateJobInput): CheckedJob {
    // A store cannot keep a NUL in text (PostgreSQL refuses it in jsonb): refused here, as bad input.
    if (input.options && containsNul(input.options)) throw ReamError.nonRetryable('validation_failed', 'the options hold a NUL character (\\u0000)');
    if (input.options && Object.hasOwn(input.options, LEGACY_ENGINE_OPTION)) {
      throw ReamError.nonRetryable('validation_failed', `option "${LEGACY_ENGINE_OPTION}" is reserved`);
    }
    // A task's priority is an integer (the queues rank by it); refused here, before a job exists.
    if (input.priority !== undefined && !Number.isSafeInteger(input.priority)) {
      throw ReamError.nonRetryable('validation_failed', `priority must be an integer (${Object.entries(PRIORITIES).map(([name, n]) => `${name} ${n}`).join(', ')}), got ${String(input.priority)}`);
    }
    const pipeline = input.pipeline ?? 'extract';
    // Refuse bad options now, not in every task; the limits may write their values in.
    const options = limitJob(
      { pipeline, options: input.options ?? {}, ...(input.priority === undefined ? {} : { priority: input.priority }), ...(input.admin === undefined ? {} : { admin: input.admin }) },
      this.#limits,
      (checked) => this.build(pipeline, checked),
    );
    if (input.webhook === undefined) return { options, webhook: null };
    const webhook = parseWebhook(input.webhook);
    this.#guard.checkLiteral(webhook.url);
    return { options, webhook };
  }

  /** {@link checkSync}, and the webhook's host resolved and checked (see `WebhookAddressGuard`). */
  async check(input: CreateJobInput): Promise<CheckedJob> {
    const checked = this.checkSync(input);
    if (checked.webhook) await this.#guard.check(checked.webhook.url);
    return checked;
  }

  build(name: string, options: JsonObject): Pipeline {
    return this.#pipelines.build(name, options);
  }
}

