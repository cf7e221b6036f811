import { TERMINAL_EVENT_TYPES, type ReamEvent } from '../../events/types.ts';
import type { TaskQueue } from '../../queue/port.ts';
import type { JobRecord, Store } from '../../store/port.ts';
import { TASK_KINDS, taskIds, webhookQueueJobId, type WebhookPayload } from '../task-kinds.ts';

/**
 * Puts the delivery of a job's terminal event on the queue as a `webhook.deliver` task (see
 * src/runtime/webhook-delivery.ts). The task id is derived from the event's seq, so a delivery
 * is enqueued at most once however often it is asked for.
 */
export class WebhookScheduling {
  readonly #store: Pick<Store, 'listEvents'>;
  readonly #queue: Pick<TaskQueue, 'enqueue'>;
  readonly #maxAttempts: number;

  constructor(store: Pick<Store, 'listEvents'>, queue: Pick<TaskQueue, 'enqueue'>, maxAttempts: number) {
    this.#store = store;
    this.#queue = queue;
    this.#maxAttempts = maxAttempts;
  }

  /** Enqueues the delivery of a terminal event to the job's webhook, if it has one (idempotent). */
  async schedule(job: JobRecord, event: Pick<ReamEvent, 'type' | 'seq'>): Promise<void> {
    if (!job.webhook) return;
    await this.#queue.enqueue([
      {
        id: taskIds.webhook(job.id, event.seq),
        jobId: webhookQueueJobId(job.id),
        kind: TASK_KINDS.webhook,
        payload: { jobId: job.id, event: event.type, seq: event.seq } satisfies WebhookPayload,
        priority: job.priority,
        maxAttempts: this.#maxAttempts,
      },
    ]);
  }

  /** {@link schedule}, a failure only warned about: the job has ended all the same, and `recover` enqueues it later. */
  async scheduleOrWarn(job: JobRecord, event: Pick<ReamEvent, 'type' | 'seq'>): Promise<void> {
    await this.schedule(job, event).catch((error: unknown) => {
      process.emitWarning(`ream: could not enqueue the webhook of job ${job.id}: ${error instanceof Error ? error.message : String(error)}`);
    });
  }

  /**
   * A process that died between storing a job's terminal event and enqueueing its delivery left
   * the webhook unsent: enqueue the delivery of the last terminal event of every job with a
   * webhook that ended lately. Enqueue dedupes by the derived task id, so a delivery enqueued
   * (or made) already is not repeated. `ended`: the jobs that ended lately.
   */
  async recover(ended: readonly JobRecord[]): Promise<void> {
    for (const job of ended) {
      if (!job.webhook) continue;
      const last = (await this.#store.listEvents(job.id, 0)).findLast((event) => TERMINAL_EVENT_TYPES.has(event.type));
      if (last) await this.schedule(job, last);
    }
  }
}
