/**
 * Names the BullMQ adapter gives things in Redis. BullMQ owns `<prefix>:<queue>:…`; ream's own
 * bookkeeping lives beside it under `<prefix>:ream:…`, which no queue name can produce because
 * queue names are encoded (see `queueNameOf`).
 */
export class BullmqKeys {
  readonly prefix: string;

  constructor(prefix: string) {
    this.prefix = prefix;
  }

  /** SET of every kind ever enqueued, so a claim without `kinds` can look at all queues. */
  get kinds(): string {
    return `${this.prefix}:ream:kinds`;
  }

  /** HASH task id → kind of every task ever enqueued for a ream job: dedupe, cancel, counts. */
  jobTasks(jobId: string): string {
    return `${this.prefix}:ream:job:${jobId}:tasks`;
  }

  /** STRING set when the job is cancelled: its leased tasks may no longer retry. */
  jobCancelled(jobId: string): string {
    return `${this.prefix}:ream:job:${jobId}:cancelled`;
  }

  /** SET of the job's task ids that `cancelJob` removed from BullMQ (they have no state there). */
  jobCancelledTasks(jobId: string): string {
    return `${this.prefix}:ream:job:${jobId}:cancelled-tasks`;
  }

  /** ZSET `<jobId>/<taskId>` → cancel time: the overall `cancelled` count, trimmed by retention. */
  get cancelledTasks(): string {
    return `${this.prefix}:ream:cancelled`;
  }

  /** Pub/sub: the kinds of newly claimable tasks, so idle workers elsewhere wake up. */
  get workChannel(): string {
    return `${this.prefix}:work`;
  }

  /** Pub/sub: the id of a cancelled ream job, so every process can abort its running tasks. */
  get cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }

  /** BullMQ's own keys, read only by the lease sweep and the queue ranking (bullmq-redis.ts). */
  bullmq(queueName: string, suffix: string): string {
    return `${this.prefix}:${queueName}:${suffix}`;
  }
}

/**
 * BullMQ queue name for a task kind: one queue per kind honours `claim({ kinds })`. BullMQ
 * forbids `:` in queue names; encoding keeps any kind usable and distinct.
 */
export function queueNameOf(kind: string): string {
  return encodeURIComponent(kind);
}

/**
 * BullMQ job id for a task id. BullMQ rejects ids with `:` and integer-like ids (they clash with
 * its own counters); encoding removes `:`, and `%n` (which `encodeURIComponent` never outputs)
 * marks an integer-like id, so no two task ids map to the same job id.
 */
export function bullmqJobIdOf(taskId: string): string {
  const encoded = encodeURIComponent(taskId);
  return /^\d+$/.test(encoded) ? `%n${encoded}` : encoded;
}
