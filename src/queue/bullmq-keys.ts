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

  /** HASH task id → `<status>:<queue name>` of every task enqueued for a ream job (bullmq-records.ts). */
  jobRecords(jobId: string): string {
    return `${this.prefix}:ream:job:${jobId}:records`;
  }

  /** HASH status → how many of the job's tasks have it, moved with the records. */
  jobCounts(jobId: string): string {
    return `${this.prefix}:ream:job:${jobId}:counts`;
  }

  /** STRING set when the job is cancelled: its leased tasks may no longer retry. */
  jobCancelled(jobId: string): string {
    return `${this.prefix}:ream:job:${jobId}:cancelled`;
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

  /** Pub/sub: `{ jobId, documentId }` of a cancelled document, so every process aborts its tasks. */
  get documentCancelChannel(): string {
    return `${this.prefix}:cancel-document`;
  }

  /**
   * BullMQ's own keys (its documented layout `<prefix>:<queue>:<suffix>`), read by the lease
   * sweep and the queue ranking (bullmq-redis.ts) and checked by the records' moves.
   */
  bullmq(queueName: string, suffix: string): string {
    return `${this.prefix}:${queueName}:${suffix}`;
  }

  /** A BullMQ job's lock: holds the token of the worker whose lease it is. */
  lock(queueName: string, bullmqJobId: string): string {
    return this.bullmq(queueName, `${bullmqJobId}:lock`);
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
